"""map.html: rasters and layers from the run's objects, `frigoris view`, and the page in Chromium.

The browser tests load the page headless from a file:// URL with the network off and check what
a reviewer relies on: no console error, every layer switches on and off, the rover sits where
timeline.csv puts it at the slider's time, and the cursor's latitude/longitude agrees with pyproj.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import os
import pathlib
import re
import shutil
import time
from html.parser import HTMLParser

import numpy as np
import pyproj
import pytest
from click.testing import CliRunner
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

from frigoris.rover.app.cli import view as view_command
from frigoris.rover.app.cli.group import main
from frigoris.rover.app.jobs.mission import run_mission
from frigoris.rover.app.mission_file import load_mission
from frigoris.rover.app.products import webmap
from frigoris.rover.app.products.webmap import (
    HAZARD_LAYERS,
    hazard_rasters,
    mask_png,
    ramp_png,
    read_timeline,
    reduce_blocks,
)
from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
from frigoris.terrain import local_metric_crs
from frigoris.terrain.crs import crs_to_lunar, lunar_to_crs
from frigoris.terrain.hazard import REASONS, hazard_map
from frigoris.terrain.link import LinkField
from frigoris.terrain.synth import SynthParams, synthesize

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")

SMALL = [
    "site.synthetic.size_m=256",
    "touchdown.runs=10",
    "mission.days=4",
    "planner.time_limit_s=2",
]
"""The HAKUTO-R mission on a 256 m site over four days (two stops at the ground's command cadence):
a whole chain in a page of ~1 MB."""
CRASH = ["site.synthetic.size_m=128", "touchdown.runs=10", 'touchdown.follow="mission-1"']
"""Following Mission 1's descent: the lander crashes, no deployment, no plan."""


# --------------------------------------------------------------------------------------------
# rasters


def test_reduce_blocks_by_hand():
    a = np.array(
        [
            [1.0, 2.0, 7.0],
            [np.nan, 4.0, np.nan],
            [np.nan, np.nan, 3.0],
        ],
        dtype=np.float32,
    )
    # 2 x 2 blocks; the edge blocks are partial; an all-NaN block stays NaN
    np.testing.assert_allclose(reduce_blocks(a, 2, "max"), [[4.0, 7.0], [np.nan, 3.0]])
    np.testing.assert_allclose(reduce_blocks(a, 2, "min"), [[1.0, 7.0], [np.nan, 3.0]])
    np.testing.assert_allclose(reduce_blocks(a, 2, "mean"), [[7.0 / 3.0, 7.0], [np.nan, 3.0]])
    m = np.zeros((5, 4), dtype=bool)
    m[4, 0] = True  # one cell in the last, partial block row
    np.testing.assert_array_equal(reduce_blocks(m, 2, "any"), [[0, 0], [0, 0], [1, 0]])
    np.testing.assert_array_equal(reduce_blocks(a, 1, "max"), a)
    with pytest.raises(ValueError, match="median"):
        reduce_blocks(a, 2, "median")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_mask_and_ramp_pngs_decode_to_what_was_drawn():
    mask = np.array([[True, False], [False, True]])
    rgba = _decode(mask_png(mask, "#d62728"))
    np.testing.assert_array_equal(rgba[..., 3] > 0, mask)
    assert tuple(rgba[0, 0]) == (0xD6, 0x27, 0x28, 255)
    vals = np.array([[0.0, 10.0], [np.nan, 5.0]], dtype=np.float32)
    rgba = _decode(ramp_png(vals, "viridis", 0.0, 10.0))
    assert rgba[1, 0, 3] == 0 and (rgba[[0, 0, 1], [0, 1, 1], 3] == 255).all()
    lut = webmap.colormaps["viridis"].resampled(64)
    assert tuple(rgba[0, 0, :3]) == tuple(int(round(v * 255)) for v in lut(0)[:3])
    assert tuple(rgba[0, 1, :3]) == tuple(int(round(v * 255)) for v in lut(63)[:3])


@pytest.fixture(scope="module")
def small_hazard():
    site = synthesize(SynthParams(size_m=48.0, seed=3))
    return hazard_map(
        site.dem,
        hazard_limits(TENACIOUS),
        sun=(108.0, 12.0),
        lander=lander_site(RESILIENCE, 0.0, 0.0),
    )


def test_hazard_layers_follow_the_bands_the_map_has(small_hazard):
    rasters, _ = hazard_rasters(small_hazard, 1)
    ids = [r["id"] for r in rasters]
    assert ids[0] == "keepout" and {"shadow", "comm_ok", "slope_rover_deg", "cost"} <= set(ids)
    assert {"risk", "link_margin_db"} <= set(ids)
    # one layer per keep-out reason present, none for the others
    present = {r for k, r in enumerate(REASONS) if (small_hazard.keepout_reason & (1 << k)).any()}
    assert {i for i in ids if i.startswith("keepout_reason_")} == {
        f"keepout_reason_{r}" for r in present
    }
    # the keep-out overlay shows exactly the keep-out cells at full resolution
    keepout = next(r for r in rasters if r["id"] == "keepout")
    alpha = _decode(base64.b64decode(keepout["src"].split(",")[1]))[..., 3] > 0
    np.testing.assert_array_equal(alpha, small_hazard.keepout)
    # no sun, no lander: no shadow, no link layer
    bare = dataclasses.replace(small_hazard, shadow=None, link=None, sun=None, lander=None)
    ids = {r["id"] for r in hazard_rasters(bare, 1)[0]}
    assert "shadow" not in ids and "comm_ok" not in ids and "keepout" in ids
    assert "link_margin_db" not in ids


def test_reason_bands_and_the_link_margin_appear_as_layers(small_hazard):
    shape = small_hazard.keepout.shape
    bits = np.zeros(shape, dtype=np.uint8)
    bits[:5, :] |= 1 << REASONS.index("slope")
    bits[:, :3] |= 1 << REASONS.index("link")
    yy = np.linspace(-1.0, 1.0, shape[0])[:, None] * np.ones(shape)
    link = LinkField((10.0 * yy).astype(np.float32), np.ones(shape, np.uint8), 0, 0, shape, 1)
    hm = dataclasses.replace(
        small_hazard, keepout_reason=bits, risk=np.abs(yy).astype(np.float32), link=link
    )
    rasters, _ = hazard_rasters(hm, 2)
    by_id = {r["id"]: r for r in rasters}
    assert {"keepout_reason_slope", "keepout_reason_link", "risk", "link_margin_db"} <= set(by_id)
    assert "keepout_reason_obstacle" not in by_id  # no cell has that reason
    # the slope reason's overlay, reduced by 2: rows 0-4 -> display rows 0-2
    alpha = _decode(base64.b64decode(by_id["keepout_reason_slope"]["src"].split(",")[1]))
    np.testing.assert_array_equal(alpha[..., 3] > 0, reduce_blocks(bits & 2 > 0, 2, "any"))
    # the link margin ramp is centred on 0 dB
    lg = by_id["link_margin_db"]["legend"]
    assert lg["min"] == -lg["max"] and lg["units"] == "dB"
    assert [s.key for s in HAZARD_LAYERS][:3] == ["keepout", "keepout_reason", "risk"]


def test_uniform_band_is_a_note_not_a_layer(small_hazard):
    hm = dataclasses.replace(
        small_hazard, risk=np.full(small_hazard.keepout.shape, 0.25, dtype=np.float32)
    )
    rasters, notes = hazard_rasters(hm, 1)
    assert "risk" not in {r["id"] for r in rasters}
    assert "risk: 0.25 everywhere (no layer)" in notes


def test_local_transverse_mercator_goes_to_the_closed_form():
    p = webmap._tmerc_sphere(local_metric_crs(60.5, -4.6))
    assert p == {
        "lat0_deg": 60.5,
        "lon0_deg": -4.6,
        "k0": 1.0,
        "x0_m": 0.0,
        "y0_m": 0.0,
        "radius_m": 1_737_400.0,
    }
    stere = pyproj.CRS.from_proj4("+proj=stere +lat_0=-90 +lon_0=0 +k=1 +R=1737400 +units=m")
    assert webmap._tmerc_sphere(stere) is None and "+proj=stere" in webmap._proj4(stere)


# --------------------------------------------------------------------------------------------
# runs (built once) and their pages


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("webmap") / "small"
    return run_mission(load_mission("hakuto-r-m2", overrides=SMALL), out)


@pytest.fixture(scope="session")
def crash_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("webmap") / "crash"
    return run_mission(load_mission("hakuto-r-m2", overrides=CRASH), out)


class _Tags(HTMLParser):
    """Tags of a page and the attributes that would load a file (script bodies are not parsed)."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.names.add(tag)
        a = dict(attrs)
        if a.get("src") or (tag == "link" and a.get("href")):
            self.loads.append(a.get("src") or a.get("href"))


def _document(path: pathlib.Path) -> dict:
    text = path.read_text()
    m = re.search(r'<script id="frigoris-data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def test_page_is_self_contained_and_linked_from_the_report(small_run):
    out = small_run.out_dir
    page = (out / "map.html").read_text()
    assert small_run.outputs["webmap"] == out / "map.html"
    # nothing to fetch: no tag loads a file (the browser test lists what the page loaded), CSS
    # url()s are data URIs
    tags = _Tags()
    tags.feed(page)
    assert tags.loads == [] and tags.names >= {"script", "style"}
    assert not [u for u in re.findall(r"url\(([^)]*)\)", page) if not u.startswith(("data:", "#"))]
    assert "sourceMappingURL" not in page
    assert 'href="map.html"' in (out / "report.html").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "map.html" in {e["file"] for e in manifest["outputs"]}
    doc = _document(out / "map.html")
    assert doc["raster_factor"] == 1  # 512 px: the DEM's own pixels
    # the timeline in the page is timeline.csv's rows
    with open(out / "timeline.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert doc["timeline"]["t_s"] == [float(r["t_s"]) for r in rows]
    assert doc["timeline"]["x_m"] == [float(r["x_m"]) for r in rows]
    assert doc["timeline"] == read_timeline(out / "timeline.csv")
    stops = doc["vectors"]["layers"]["stops"]
    assert len(stops) == small_run.summary["plan_stops"] + 1
    assert {"kind", "value", "reason", "arrival_utc", "departure_utc", "soc_arrival_wh"} <= set(
        stops[1]["properties"]
    )


def test_a_run_that_stops_shows_what_exists(crash_run):
    doc = _document(crash_run.out_dir / "map.html")
    assert crash_run.plan is None and doc["plan"] is None and doc["timeline"] == {}
    assert doc["stopped"].startswith("lander crash")
    v = doc["vectors"]
    crashed = [(res.scenario, r.index) for res in crash_run.touchdowns for r in res.runs
               if r.outcome == "crash"]  # fmt: skip
    assert len(crashed) >= 10  # every mission-1 run
    assert [(f["properties"]["scenario"], f["properties"]["run"]) for f in v["impacts"]] == crashed
    assert set(v["touchdowns"]) == {"nominal", "mission-2", "mission-1"}
    assert "stops" not in v["layers"] and "lander" in v["layers"]


# --------------------------------------------------------------------------------------------
# frigoris view


def test_view_opens_the_map_or_prints_its_url(small_run, monkeypatch):
    calls = []
    monkeypatch.setattr(view_command, "webbrowser", _FakeBrowser(calls, opened=True))
    res = CliRunner().invoke(main, ["view", str(small_run.out_dir)])
    assert res.exit_code == 0 and calls == [(small_run.out_dir / "map.html").resolve().as_uri()]
    monkeypatch.setattr(view_command, "webbrowser", _FakeBrowser(calls, opened=False))
    res = CliRunner().invoke(main, ["view", str(small_run.out_dir)])
    assert res.exit_code == 0 and res.stdout.strip() == calls[-1]
    res = CliRunner().invoke(main, ["view", str(small_run.out_dir), "--print-path"])
    assert res.exit_code == 0 and res.stdout.strip().startswith("file://") and len(calls) == 2


def test_view_without_a_map_is_one_line_exit_1(tmp_path):
    res = CliRunner().invoke(main, ["view", str(tmp_path)])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        f"Error: {tmp_path} holds no map.html; give a run folder written by `frigoris mission` "
        "or `frigoris demo` (re-run it with --overwrite if it predates the map)"
    ]
    res = CliRunner().invoke(main, ["view", str(tmp_path / "nothing")])
    assert res.exit_code == 1 and "is not a folder" in res.output


class _FakeBrowser:
    Error = RuntimeError

    def __init__(self, calls: list, *, opened: bool):
        self.calls, self.opened = calls, opened

    def open(self, url: str) -> bool:
        self.calls.append(url)
        return self.opened


# --------------------------------------------------------------------------------------------
# the page in a real browser


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not tool.exists():
            pytest.fail(
                f"{tool} not found: run `make test` (installs chromium and chromium-driver) or "
                "apt-get install chromium chromium-driver"
            )
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,900",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # both paths given: Selenium Manager has nothing to look up or download
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: pathlib.Path) -> list[dict]:
    """Load the page, wait for its script; return the console entries of the load."""
    driver.get(path.resolve().as_uri())
    t0 = time.monotonic()
    while not driver.execute_script("return !!(window.frigoris && window.frigoris.ready)"):
        if time.monotonic() - t0 > 15:
            break
        time.sleep(0.05)
    return driver.get_log("browser")


def _severe(entries: list[dict]) -> list[str]:
    return [e["message"] for e in entries if e["level"] == "SEVERE"]


@pytest.fixture(scope="session")
def small_page(browser, small_run):
    log = _open(browser, small_run.out_dir / "map.html")
    return browser, small_run, log


def test_page_loads_without_console_errors(small_page):
    driver, run, log = small_page
    assert _severe(log) == []
    assert driver.execute_script("return window.frigoris.ready") is True
    # the layer list holds every layer the document describes, hazard bands included
    doc = _document(run.out_dir / "map.html")
    boxes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#layers input')).map(b => b.dataset.layer)"
    )
    assert {r["id"] for r in doc["rasters"]} <= set(boxes)
    assert {"keepout", "shadow", "comm_ok", "hillshade", "elevation"} <= set(boxes)
    assert {"stops", "legs", "lander", "deployment_sides", "egress", "rover"} <= set(boxes)
    assert {"touchdown_ellipse", "touchdowns_nominal", "touchdowns_mission-1"} <= set(boxes)
    assert "impacts" in boxes  # the mission-1 scenario crashes
    # everything the page loaded is itself or inlined data: nothing from a network
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert loaded and all(u.startswith(("file://", "data:")) for u in loaded), loaded


def test_every_layer_toggles(small_page):
    driver, _, _ = small_page
    boxes = driver.find_elements("css selector", "#layers input[type=checkbox]")
    assert len(boxes) >= 15
    # one layer by a real mouse click, then every layer by a click event on its box, twice
    box = next(b for b in boxes if b.get_attribute("data-layer") == "keepout")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    assert (
        driver.execute_script("return document.querySelectorAll('img.raster-keepout').length") == 0
    )
    box.click()
    assert (
        driver.execute_script("return document.querySelectorAll('img.raster-keepout').length") == 1
    )
    states = driver.execute_script(
        """
        var f = window.frigoris, out = [];
        var drawn = id => document.querySelectorAll('img.raster-' + id).length;
        document.querySelectorAll('#layers input[type=checkbox]').forEach(function (box) {
          var id = box.dataset.layer, layer = f.layers[id];
          var s = [id, box.checked, f.map.hasLayer(layer), drawn(id)];
          box.click();
          s.push(box.checked, f.map.hasLayer(layer), drawn(id));
          box.click();
          s.push(box.checked, f.map.hasLayer(layer), drawn(id));
          out.push(s);
        });
        return out;
        """
    )
    assert len(states) == len(boxes)
    rasters = {r["id"] for r in driver.execute_script("return window.frigoris.data.rasters")}
    for layer, on0, has0, img0, on1, has1, img1, on2, has2, img2 in states:
        assert on0 == has0 and on1 == has1 == (not on0) and on2 == has2 == on0, layer
        if layer in rasters:  # an image overlay leaves the page and comes back
            assert (img0, img1, img2) == ((1, 0, 1) if on0 else (0, 1, 0)), layer
    assert _severe(driver.get_log("browser")) == []


def _slide(driver, t: float) -> None:
    """Move the time slider as a user does: set its value, fire its input event."""
    driver.execute_script(
        "var s = document.getElementById('slider'); s.value = String(arguments[0]);"
        "s.dispatchEvent(new Event('input', {bubbles: true}));",
        t,
    )


def test_rover_sits_at_the_timeline_position_for_the_slider_time(small_page):
    driver, run, _ = small_page
    with open(run.out_dir / "timeline.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["t_s"]) for r in rows])
    unique = [i for i in range(1, len(rows) - 1) if t[i - 1] < t[i] < t[i + 1]]
    drive = [i for i in unique if rows[i]["activity"] == "drive"]
    at_stop = [i for i in unique if int(rows[i]["stop"]) > 0]
    picks = [drive[len(drive) // 3], drive[-5], at_stop[len(at_stop) // 2], len(rows) - 1]
    for i in picks:
        _slide(driver, t[i])
        x, y = float(rows[i]["x_m"]), float(rows[i]["y_m"])
        rx, ry = driver.execute_script("return window.frigoris.rover()")
        assert (rx, ry) == pytest.approx((x, y), abs=1e-9), (i, rows[i])
        # the marker on screen is where the map draws that point
        dx, dy = driver.execute_script(
            "var m = window.frigoris.map, el = document.querySelector('.rover-icon');"
            "var r = el.getBoundingClientRect(), c = m.getContainer().getBoundingClientRect();"
            "var p = m.latLngToContainerPoint(L.latLng(arguments[1], arguments[0]));"
            "return [r.left + r.width / 2 - c.left - p.x, r.top + r.height / 2 - c.top - p.y];",
            x,
            y,
        )
        assert abs(dx) <= 1.0 and abs(dy) <= 1.0
        text = driver.find_element("id", "now").text
        assert f"x {x:.2f} m, y {y:.2f} m" in text
        assert rows[i]["activity"] in text
        assert f"{float(rows[i]['soc_wh']):.4g}".rstrip("0").rstrip(".") in text
    # between two rows of a drive the rover moves along the straight line joining them
    i = drive[len(drive) // 2]
    _slide(driver, 0.25 * t[i - 1] + 0.75 * t[i])
    rx, ry = driver.execute_script("return window.frigoris.rover()")
    x0, y0, x1, y1 = (float(rows[k][c]) for k in (i - 1, i) for c in ("x_m", "y_m"))
    assert (rx, ry) == pytest.approx((x0 + 0.75 * (x1 - x0), y0 + 0.75 * (y1 - y0)), abs=1e-9)
    # the next-row button steps to the following row exactly
    _slide(driver, t[picks[0]])
    driver.find_element("id", "t-next").click()
    assert driver.execute_script("return window.frigoris.time()") == t[picks[0] + 1]
    assert _severe(driver.get_log("browser")) == []


def test_play_moves_time_forward(small_page):
    driver, _, _ = small_page
    driver.find_element("id", "t-start").click()
    t0 = driver.execute_script("return window.frigoris.time()")
    driver.find_element("id", "t-play").click()
    time.sleep(0.6)
    driver.find_element("id", "t-play").click()
    t1 = driver.execute_script("return window.frigoris.time()")
    assert t1 > t0 + 600.0  # 1 h of plan time per second by default
    time.sleep(0.2)
    assert driver.execute_script("return window.frigoris.time()") == t1  # paused


def test_cursor_lat_lon_agrees_with_pyproj(small_page):
    driver, run, _ = small_page
    crs = run.dem.crs
    b = run.dem.bounds
    pts = [(b.left, b.top), (b.right, b.bottom), (0.0, 0.0), (37.5, -81.25), (-5000.0, 7000.0)]
    for x, y in pts:
        lat, lon = driver.execute_script(
            "return window.frigoris.toLatLon(arguments[0], arguments[1])", x, y
        )
        ref = crs_to_lunar(crs, x, y)
        assert (lat, lon) == pytest.approx(ref, abs=1e-9)
    # and through the mouse: the box shows the position under the cursor
    m = driver.find_element("id", "map")
    ActionChains(driver).move_to_element_with_offset(m, 40, -30).perform()
    text = driver.find_element("id", "cursor").text
    g = re.search(
        r"x (-?[\d.]+) m, y (-?[\d.]+) m · ([\d.]+)° ([NS]), ([\d.]+)° ([EW])", text
    ).groups()
    lat = float(g[2]) * (1 if g[3] == "N" else -1)
    lon = float(g[4]) * (1 if g[5] == "E" else -1)
    ref = crs_to_lunar(crs, float(g[0]), float(g[1]))
    assert (lat, lon) == pytest.approx(ref, abs=2e-5)  # x, y shown to 0.1 m, degrees to 1e-5


def test_closed_form_transverse_mercator_matches_pyproj(small_page):
    """The page's inverse of the local TM, at centres north, south, polar and on the dateline."""
    driver, _, _ = small_page
    for lat0, lon0 in ((60.5, -4.6), (-45.0, 30.0), (-89.5, 120.0), (10.0, 179.9)):
        crs = local_metric_crs(lat0, lon0)
        p = webmap._tmerc_sphere(crs)
        for x, y in ((0.0, 0.0), (150.0, -220.0), (-3000.0, 2500.0), (20000.0, -40000.0)):
            lon, lat = driver.execute_script(
                "return window.frigoris.tmercSphereInverse(arguments[0], arguments[1], "
                "arguments[2])",
                p,
                x,
                y,
            )
            ref_lat, ref_lon = crs_to_lunar(crs, x, y)
            assert lat == pytest.approx(ref_lat, abs=1e-9), (lat0, lon0, x, y)
            assert (lon - ref_lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-9)


def test_proj4js_matches_pyproj_for_other_moon_crs(small_page):
    """Projections a DEM may come in, used as they are when metric: inverted by proj4js."""
    driver, _, _ = small_page
    geo = webmap._proj4(pyproj.CRS.from_user_input("IAU_2015:30100"))
    cases = [
        ("+proj=stere +lat_0=-90 +lon_0=0 +k=1 +R=1737400 +units=m", (20000.0, -15000.0)),
        ("+proj=stere +lat_0=90 +lon_0=0 +k=1 +R=1737400 +units=m", (-5000.0, 31000.0)),
        ("+proj=eqc +lat_ts=0 +lon_0=0 +R=1737400 +units=m", (-120000.0, 1800000.0)),
    ]
    for text, (x, y) in cases:
        crs = pyproj.CRS.from_proj4(text)
        assert webmap._tmerc_sphere(crs) is None
        lon, lat = driver.execute_script(
            "return proj4(arguments[0], arguments[1]).forward([arguments[2], arguments[3]])",
            webmap._proj4(crs),
            geo,
            x,
            y,
        )
        assert (lat, lon) == pytest.approx(crs_to_lunar(crs, x, y), abs=1e-9), text
        assert lunar_to_crs(crs, lat, lon) == pytest.approx((x, y), abs=1e-4)


def test_stopped_run_page_loads_and_shows_the_crash(browser, crash_run):
    log = _open(browser, crash_run.out_dir / "map.html")
    assert _severe(log) == []
    d = browser
    assert d.find_elements("id", "slider") == []
    assert "No timeline" in d.find_element("id", "timebar").text
    assert "The chain stopped" in d.find_element("id", "side").text
    assert d.execute_script("return window.frigoris.map.hasLayer(window.frigoris.layers.impacts)")
