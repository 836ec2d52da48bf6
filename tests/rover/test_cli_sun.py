"""``frigoris sun``: run the command, check the exit code, reopen the outputs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from frigoris import terrain
from frigoris.rover.app.cli import main
from frigoris.rover.energy import panel
from frigoris.rover.specs import TENACIOUS
from frigoris.terrain.crs import local_metric_crs
from frigoris.terrain.solar import SolarPanel


@pytest.fixture
def runner():
    return CliRunner()


def test_json_at_touchdown(runner):
    res = runner.invoke(main, ["sun", "--days", "2", "--step-h", "6", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    first = doc["samples"][0]
    assert first["utc"] == "2025-06-05T19:17:00Z"
    assert first["sun_el_deg"] == pytest.approx(11.86, abs=0.01)
    assert first["sun_az_deg"] == pytest.approx(108.36, abs=0.01)
    assert first["earth_el_deg"] == pytest.approx(31.37, abs=0.01)
    assert len(doc["samples"]) == 9  # 2 days every 6 h, both ends
    day = doc["lunar_day"]
    assert day["daylight_days"] == pytest.approx(15.19, abs=0.02)
    assert day["sunrise_utc"].startswith("2025-06-03T19:")
    assert day["sunset_utc"].startswith("2025-06-18T23:") or day["sunset_utc"].startswith(
        "2025-06-19T00:"
    )
    # the Sun is up over the whole span: one window, clipped to it
    assert doc["sun_up_windows"] == [
        {"start_utc": "2025-06-05T19:17:00Z", "end_utc": "2025-06-07T19:17:00Z", "days": 2.0}
    ]
    assert doc["earth_up_windows"] == doc["sun_up_windows"]  # the Earth never sets here
    tenacious_panel = panel(TENACIOUS)
    assert isinstance(tenacious_panel, SolarPanel)
    watts = [s["power_w"] for s in doc["samples"]]
    sin_el = np.sin(np.radians([s["sun_el_deg"] for s in doc["samples"]]))
    # horizontal panel: power ~ peak * sin(el) (Sun ~1.6 % beyond 1 AU, changing slowly)
    np.testing.assert_allclose(watts, tenacious_panel.peak_w * sin_el * 0.9689, rtol=5e-3)
    assert doc["energy_wh"] == pytest.approx(np.trapezoid(watts, dx=6.0), rel=1e-3)
    assert doc["lit_fraction"] is None


def test_table_and_plot(runner, tmp_path):
    res = runner.invoke(main, ["sun", "--days", "15", "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    assert "Sun and Earth at 60.5, -4.6" in res.stdout
    assert "15.19 days" in res.stdout
    assert "2025-06-05 19:17" in res.stdout
    png = (tmp_path / "out" / "sun.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_lit_fraction_geotiff_for_a_dem(runner, tmp_path):
    res_m = 1.0
    n = 64
    rr, cc = np.mgrid[0:n, 0:n]
    r2 = ((cc + 0.5 - n / 2) ** 2 + (rr + 0.5 - n / 2) ** 2) * res_m**2
    z = np.where(r2 < 20.0**2, 4.0 * (r2 / 400.0 - 1.0), 0.0).astype(np.float32)  # a bowl
    z[0, :3] = np.nan
    dem = terrain.Dem.from_array(z, res_m=res_m, crs=local_metric_crs(60.5, -4.6))
    dem_path = terrain.write_geotiff(tmp_path / "dem.tif", z, dem)
    out = tmp_path / "out"
    res = runner.invoke(
        main, ["sun", "--dem", str(dem_path), "--days", "16", "--from", "2025-06-03T12:00Z",
              "--step-h", "3", "-o", str(out), "-q", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    with rasterio.open(out / "lit_fraction.tif") as src:
        assert src.descriptions == ("lit_fraction", "first_lit_h", "last_lit_h")
        lit = src.read(1)
        first = src.read(2)
        assert src.crs == dem.crs
    assert lit.shape == (n, n)
    assert np.isnan(lit[0, 0]) and np.isnan(first[0, 0])
    up = np.mean([s["sun_el_deg"] > 0 for s in doc["samples"]])
    assert lit[n - 1, n - 1] == pytest.approx(up)  # the plain sees every Sun above the horizon
    assert lit[n // 2, n // 2] < up  # the crater floor less
    # the first lit sample on the plain is the first with the Sun up (hours after --from)
    first_up = next(i for i, s in enumerate(doc["samples"]) if s["sun_el_deg"] > 0)
    assert first[n - 1, n - 1] == pytest.approx(3.0 * first_up)
    assert doc["lit_fraction"]["mean"] == pytest.approx(float(np.nanmean(lit)), abs=1e-6)
    assert doc["lit_fraction"]["dem_centre"] == pytest.approx([60.5, -4.6], abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-06-05T19:17"], "no time zone"),
        (["--from", "yesterday"], "not an ISO 8601"),
        (["--days", "0"], "0 is outside (0, inf)"),
        (["--days", "-3"], "-3 is outside (0, inf)"),
        (["--site", "latlon:95,-4.6"], "outside [-90, 90]"),
        (["--site", "latlon:60.5"], "two numbers"),
        (["--site", "60.5,-4.6"], "does not say which coordinates"),
        (["--step-h", "0"], "0 is outside (0, inf)"),
        (["--from", "1850-01-01T00:00Z", "--days", "1"], "outside the DE421"),
        (["--rover", "no_such_rover.toml", "--days", "1"], "does not exist"),
    ],
)
def test_bad_input_one_line_error(runner, args, message):
    res = runner.invoke(main, ["sun", *args])
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_no_overwrite_refuses_existing_outputs(runner, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sun.png").write_bytes(b"old")
    res = runner.invoke(main, ["sun", "--days", "1", "-o", str(out), "-q"])
    assert res.exit_code == 1 and "pass --overwrite" in res.output
    assert (out / "sun.png").read_bytes() == b"old"


def test_other_time_zone_is_converted():
    runner = CliRunner()
    jst = runner.invoke(main, ["sun", "--from", "2025-06-06T04:17+09:00", "--days", "1", "--json"])
    utc = runner.invoke(main, ["sun", "--from", "2025-06-05T19:17Z", "--days", "1", "--json"])
    assert jst.exit_code == 0 and utc.exit_code == 0
    assert json.loads(jst.stdout)["samples"] == json.loads(utc.stdout)["samples"]
    assert json.loads(utc.stdout)["from_utc"] == dt.datetime(
        2025, 6, 5, 19, 17, tzinfo=dt.timezone.utc
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
