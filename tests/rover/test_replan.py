"""Replanning from telemetry: from the telemetry pose, stops done stay done, new hazards are
never crossed, every exported sequence passes the checker, bad telemetry is refused."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from frigoris.planners.sequence_check import check_sequence
from frigoris.rover.app.cli.group import main
from frigoris.rover.app.jobs.mission import run_mission
from frigoris.rover.app.jobs.replan import replan_job
from frigoris.rover.app.mission_file import builtin_mission
from frigoris.rover.app.products.hazard_files import load_hazard
from frigoris.rover.energy import SolarModel, horizons_from_codes
from frigoris.rover.errors import TelemetryError
from frigoris.rover.operations import PlanLayers, flight_rules
from frigoris.rover.replan import SeenHazard, context_from_state, hazard_keepout


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("replan") / "run"
    mission = builtin_mission(
        overrides=[
            "site.synthetic.size_m=256",
            "touchdown.runs=5",
            "mission.days=2",
            "planner.time_limit_s=2",
        ]
    )
    run_mission(mission, out)
    return out


def state(run_dir):
    return json.loads((run_dir / "plan_state.json").read_text())


def telemetry(path, rows):
    head = "time_utc,position,heading_deg,battery_wh,stops_done,commands_executed\n"
    path.write_text(head + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def independent_check(run_dir: pathlib.Path, out_dir: pathlib.Path):
    """sequence.json of ``out_dir`` checked again from the files alone."""
    st = state(out_dir)
    ctx = context_from_state(st)
    hm = load_hazard((out_dir / st["hazard_map"]["path"]).resolve())
    layers = PlanLayers.from_hazard(hm, ctx.ops)
    seen = tuple(SeenHazard.from_feature(f) for f in st["hazards"])
    if seen:
        layers = layers.with_keepout(hazard_keepout(seen, hm.grid, ctx.rover.half_diagonal_m))
    hz = st["horizons"]
    codes = np.load((out_dir / hz["path"]).resolve())
    horizons = horizons_from_codes(
        codes,
        azimuths_deg=np.asarray(hz["azimuths_deg"]),
        res_m=hz["res_m"],
        body_radius_m=hz["body_radius_m"],
        lines_per_cell=hz["lines_per_cell"],
    )
    from datetime import datetime

    t0 = datetime.fromisoformat(st["plan_start_utc"].replace("Z", "+00:00"))
    mission_s = (ctx.mission_end - t0).total_seconds()
    solar = SolarModel.build(hm.grid, horizons, ctx.rover, t0, mission_s)
    doc = json.loads((out_dir / "sequence.json").read_text())
    return doc, check_sequence(
        doc,
        rules=flight_rules(ctx.ops, ctx.rover, t0, mission_s),
        keepout=layers.keepout,
        risk=layers.risk,
        link_margin_db=layers.link_margin_db,
        transform=hm.grid.transform,
        solar_w=solar,
        sun_elevation_deg=lambda t: float(solar.sun_at(np.array([t]))[1][0]),
    )


def test_the_missions_sequence_passes_the_checker_read_back_from_its_files(run):
    doc, violations = independent_check(run, run)
    assert violations == []
    assert sum(len(c["commands"]) for c in doc["cycles"]) > 10


def _done_pose(run_dir, k):
    """The place of stop k of the run's plan (where telemetry would put the rover)."""
    s = state(run_dir)["stops"][k]
    return s["x_m"], s["y_m"], s


def test_a_replan_starts_at_the_telemetry_pose_and_never_revisits_a_stop_done(run, tmp_path):
    st = state(run)
    assert len(st["stops"]) >= 2, "the fixture plan has no stop"
    x, y, done = _done_pose(run, 1)
    x += 0.13  # the rover stands 13 cm off the cell's centre
    t = st["stops"][1]["departure_utc"]
    tel = telemetry(tmp_path / "tm.csv", [(t, f'"xy:{x},{y}"', 33.0, 35.5, 1, "003.02")])
    out = tmp_path / "rp"
    result = replan_job(run, tel, out)
    seq = json.loads((out / "sequence.json").read_text())
    assert seq["start"]["x_m"] == x and seq["start"]["y_m"] == y
    assert seq["start"]["battery_wh"] == 35.5 and seq["start"]["heading_deg"] == 33.0
    assert seq["start_utc"].startswith(t[:-1])
    new = state(out)
    assert new["plan_start_utc"] == t
    hm = load_hazard(run / "hazard.tif")
    assert hm.grid.rowcol(new["stops"][0]["x_m"], new["stops"][0]["y_m"]) == hm.grid.rowcol(x, y)
    for s in new["stops"][1:]:
        assert not (
            s["kind"] == done["kind"]
            and math.hypot(s["x_m"] - done["x_m"], s["y_m"] - done["y_m"]) < 1e-3
        )
    assert [d["kind"] for d in new["done"]] == [done["kind"]]
    text = (out / "plan.txt").read_text()
    assert "What changed against the previous plan:" in text and f"1 ({done['kind']})" in text
    assert result.summary["checked"].startswith("passed")
    _, violations = independent_check(run, out)
    assert violations == []
    # a replan of the replan keeps the stop done and names the same hazard map
    tel2 = telemetry(
        tmp_path / "tm2.csv",
        [(new["stops"][0]["departure_utc"], f'"xy:{x},{y}"', 33.0, 35.0, "", "")],
    )
    replan_job(out, tel2, tmp_path / "rp2")
    again = state(tmp_path / "rp2")
    assert [d["kind"] for d in again["done"]] == [done["kind"]]
    assert (tmp_path / "rp2" / again["hazard_map"]["path"]).resolve() == (
        run / "hazard.tif"
    ).resolve()


def test_new_hazards_are_never_crossed(run, tmp_path):
    st = state(run)
    x0, y0 = st["start"]["x_m"], st["start"]["y_m"]
    first = st["stops"][1]
    # a 3 m boulder the rover saw halfway to its first stop
    hx, hy = 0.5 * (x0 + first["x_m"]), 0.5 * (y0 + first["y_m"])
    hz = tmp_path / "seen.geojson"
    crs = json.loads((run / "traverse.geojson").read_text())["crs"]
    hz.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": crs,
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [hx, hy]},
                        "properties": {"name": "boulder", "diameter_m": 3.0},
                    }
                ],
            }
        )
    )
    tel = telemetry(
        tmp_path / "tm.csv", [(st["plan_start_utc"], f'"xy:{x0},{y0}"', 0, 36.0, "", "")]
    )
    out = tmp_path / "rp"
    replan_job(run, tel, out, hazards=hz)
    hm = load_hazard(run / "hazard.tif")
    ctx = context_from_state(st)
    seen = SeenHazard(shapely.Point(hx, hy), 3.0, "boulder")
    kept = hazard_keepout((seen,), hm.grid, ctx.rover.half_diagonal_m)
    # a disc of 1.5 + 0.31 m: about 41 cells of 0.25 m2
    assert kept.sum() == pytest.approx(
        math.pi * (1.5 + ctx.rover.half_diagonal_m) ** 2 / 0.25, rel=0.15
    )
    doc = json.loads((out / "sequence.json").read_text())
    for cyc in doc["cycles"]:
        for c in cyc["commands"]:
            for px, py in c.get("path_xy", []):
                assert not kept[hm.grid.rowcol(px, py)], (px, py)
    assert (
        json.loads((out / "hazards.geojson").read_text())["features"][0]["properties"]["size_m"]
        == 3.0
    )
    assert "new hazards kept out: 1" in (out / "plan.txt").read_text()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("2025-06-06T23:00Z", '"xy:9999,0"', 0, 30, "", "")], "off the map"),
        ([("2025-06-06T23:00Z", "LANDER", 0, 30, "", "")], "is in keep-out"),
        (
            [
                ("2025-06-06T23:00Z", "START", 0, 30, "", ""),
                ("2025-06-06T22:00Z", "START", 0, 30, "", ""),
            ],
            "time cannot go backwards",
        ),
        ([("2025-06-01T00:00Z", "START", 0, 30, "", "")], "before the plan it updates starts"),
        ([("2025-06-06T23:00Z", "START", 0, 40.5, "", "")], "above capacity|outside \\[0, 40\\]"),
        ([("2025-06-06T23:00Z", "START", 0, 30, 9, "")], "stop 9 is done, but"),
        ([("2025-06-06T23:00Z", "xy:1,2", 0, 30, "", "")], "quote a position"),
    ],
)
def test_bad_telemetry_is_refused_with_one_line_and_nothing_written(run, tmp_path, rows, message):
    st = state(run)
    start = f'"xy:{st["start"]["x_m"]},{st["start"]["y_m"]}"'
    lander = json.loads((run / "handoff.json").read_text())["lander"]
    at_lander = f'"xy:{lander["x"]},{lander["y"]}"'
    sub = {"START": start, "LANDER": at_lander}
    rows = [tuple(sub.get(v, v) if isinstance(v, str) else v for v in r) for r in rows]
    tel = telemetry(tmp_path / "tm.csv", rows)
    out = tmp_path / "rp"
    res = CliRunner().invoke(
        main, ["replan", str(run), "--telemetry", str(tel), "-o", str(out), "-q"]
    )
    assert res.exit_code == 1, res.output
    line = res.output.strip()
    assert line.startswith("Error: ") and "\n" not in line
    import re

    assert re.search(message, line), line
    assert not out.exists()


def test_telemetry_in_json_reads_as_csv_does(run, tmp_path):
    from frigoris.rover.app.jobs.telemetry import read_telemetry

    hm = load_hazard(run / "hazard.tif")
    st = state(run)
    a = telemetry(
        tmp_path / "a.csv",
        [
            (
                st["plan_start_utc"],
                f'"xy:{st["start"]["x_m"]},{st["start"]["y_m"]}"',
                10,
                30,
                "1;2",
                "001.02",
            )
        ],
    )
    b = tmp_path / "b.json"
    b.write_text(
        json.dumps(
            {
                "telemetry": [
                    {
                        "time_utc": st["plan_start_utc"],
                        "position": f"xy:{st['start']['x_m']},{st['start']['y_m']}",
                        "heading_deg": 10,
                        "battery_wh": 30,
                        "stops_done": [1, 2],
                        "commands_executed": "001.02",
                    }
                ]
            }
        )
    )
    assert read_telemetry(a, hm.grid) == read_telemetry(b, hm.grid)
    with pytest.raises(TelemetryError, match="unknown field 'speed'"):
        c = tmp_path / "c.json"
        c.write_text(
            json.dumps(
                {
                    "time_utc": "2025-06-06T23:00Z",
                    "position": "xy:0,0",
                    "heading_deg": 0,
                    "battery_wh": 30,
                    "speed": 1,
                }
            )
        )
        read_telemetry(c, hm.grid)


def test_a_plan_made_with_frigoris_plan_on_a_hazard_map_can_be_replanned(run, tmp_path):
    from frigoris.rover.app.jobs.plan import plan_job

    out = tmp_path / "plan"
    plan_job(run / "hazard.tif", out, days=1.0, time_limit_s=1.0)
    st = state(out)
    assert (out / st["horizons"]["path"]).resolve() == (out / "horizons.npy").resolve()
    assert (out / st["hazard_map"]["path"]).resolve() == (run / "hazard.tif").resolve()
    x, y = st["start"]["x_m"], st["start"]["y_m"]
    tel = telemetry(tmp_path / "tm.csv", [(st["plan_start_utc"], f'"xy:{x},{y}"', 0, 30.0, "", "")])
    replan_job(out, tel, tmp_path / "rp")
    assert (tmp_path / "rp" / "sequence.json").is_file()


def test_a_big_input_rewritten_after_it_was_hashed_is_hashed_again(tmp_path):
    # a replan hashes its big inputs several times and remembers their digests while their
    # stat is the same: a file changed in place (same size) must not keep its old digest
    import hashlib

    from frigoris.rover.app.provenance import _MEMO_MIN_BYTES, sha256_file

    path = tmp_path / "big.bin"
    data = bytearray(_MEMO_MIN_BYTES)
    path.write_bytes(data)
    first = sha256_file(path)
    assert first == hashlib.sha256(data).hexdigest() and sha256_file(path) == first
    data[12345] = 7
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest() != first
