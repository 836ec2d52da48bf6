"""`frigoris descent`: the written files against the library's own runs, and user errors."""

from __future__ import annotations

import csv
import json

import numpy as np
from click.testing import CliRunner

from frigoris.rover import descent as D
from frigoris.rover.app.cli import main


def _run(args):
    return CliRunner().invoke(main, ["descent", *args])


def test_descent_writes_every_run_one_telemetry_and_figures(tmp_path):
    out = tmp_path / "m1"
    res = _run(
        ["--scenario", "mission-1", "--runs", "30", "--seed", "4", "--chunk", "16",
         "--telemetry-run", "3", "-o", str(out), "-q", "--json"]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # the same records as the library's distributed batch of the same seed and chunk size
    batch = D.simulate_descents_distributed("mission-1", runs=30, seed=4, chunk=16)
    assert doc["crash"] == batch.fractions["crash"] and doc["runs"] == 30
    rows = list(csv.DictReader((out / "descent_runs.csv").read_text().splitlines()))
    assert [int(r["seed"]) for r in rows] == batch.seeds.tolist()
    assert [r["outcome"] for r in rows] == batch.outcomes.tolist()
    v = np.array([float(r["v_vertical_m_s"]) for r in rows])
    np.testing.assert_allclose(v, batch.column("v_vertical_m_s"), atol=5e-4)
    assert all(r["sensor_failed_t_s"] for r in rows)  # every mission-1 run loses its sensor
    # the telemetry is run 3 flown again: its last row is the contact of run 3
    tel = list(csv.DictReader((out / "descent_telemetry.csv").read_text().splitlines()))
    assert float(tel[-1]["agl_m"]) == 0.0
    assert float(tel[-1]["v_down_m_s"]) == round(float(rows[3]["v_vertical_m_s"]), 3)
    summary = json.loads((out / "descent_summary.json").read_text())
    assert summary["telemetry_run"]["seed"] == int(rows[3]["seed"])
    assert summary["scenario"]["name"] == "mission-1" and summary["scenario"]["gate_m"] == 500.0
    assert "NaN" not in (out / "descent_summary.json").read_text()
    for png in ("descent_profile.png", "descent_impacts.png"):
        assert (out / png).stat().st_size > 20_000


def test_descent_user_errors_are_one_line_and_write_nothing(tmp_path):
    res = _run(["--runs", "5", "--telemetry-run", "5", "-o", str(tmp_path / "a"), "-q"])
    assert res.exit_code == 1 and "--telemetry-run 5 is not one of the 5 runs" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "a").exists()
    res = _run(["--scenario", "late-altimeter", "-o", str(tmp_path / "b"), "-q"])
    assert res.exit_code == 2 and "late-altimeter" in res.output
    ok = _run(["--runs", "4", "-o", str(tmp_path / "c"), "-q"])
    assert ok.exit_code == 0, ok.output
    again = _run(["--runs", "4", "-o", str(tmp_path / "c"), "-q"])
    assert again.exit_code == 1 and "--overwrite" in again.output
