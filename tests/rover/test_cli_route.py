"""`frigoris route`: costs against independent searches, keep-out, written files, user errors."""

from __future__ import annotations

import csv
import json
import pathlib
import shutil
from dataclasses import dataclass

import numpy as np
import pytest
from click.testing import CliRunner
from rasterio.crs import CRS
from scipy import ndimage
from skimage.graph import MCP_Geometric

from frigoris.planners import SlopeTerm, shortest_path
from frigoris.rover.app.cli import main
from frigoris.rover.app.jobs.inputs import Position
from frigoris.rover.app.jobs.route import route_job
from frigoris.rover.app.products import figures
from frigoris.terrain import Dem, read_layers, write_geotiff
from frigoris.terrain.synth import synthesize

UPHILL = 20.0


@dataclass(frozen=True)
class Site:
    hazard: pathlib.Path
    dem: pathlib.Path
    grid: Dem
    cost: np.ndarray  # float64, inf = keep-out
    elevation: np.ndarray
    cells: list[tuple[int, int]]  # three waypoints in one passable component
    xy: list[tuple[float, float]]
    keepout_xy: tuple[float, float]

    def via(self, *k: int) -> list[str]:
        return [a for i in k for a in ("--via", f"xy:{self.xy[i][0]!r},{self.xy[i][1]!r}")]

    def positions(self, *k: int) -> list[Position]:
        return [Position("xy", *self.xy[i]) for i in k]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    """A 64 m synthetic site at 0.5 m, mapped by `frigoris hazard` (about a second)."""
    d = tmp_path_factory.mktemp("route_site")
    dem = synthesize(size_m=64.0, res_m=0.5, seed=1).dem
    dem_path = write_geotiff(d / "dem.tif", {"elevation": dem.elevation}, dem)
    res = CliRunner().invoke(main, ["hazard", str(dem_path), "-o", str(d / "hz"), "-q"])
    assert res.exit_code == 0, res.output
    hazard = d / "hz" / "hazard.tif"
    layers, grid = read_layers(hazard)
    cost = layers["cost"].astype(np.float64)
    # Waypoints: the cells of the largest 8-connected passable region nearest three corners.
    labels, _ = ndimage.label(np.isfinite(cost), structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    rows, cols = np.nonzero(labels == sizes.argmax())
    n_r, n_c = cost.shape
    cells = []
    for tr, tc in ((0, 0), (n_r - 1, n_c - 1), (0, n_c - 1)):
        k = int(np.argmin((rows - tr) ** 2 + (cols - tc) ** 2))
        cells.append((int(rows[k]), int(cols[k])))
    blocked = np.argwhere(~np.isfinite(cost))[0]
    return Site(
        hazard=hazard,
        dem=dem_path,
        grid=grid,
        cost=cost,
        elevation=layers["elevation"].astype(np.float64),
        cells=cells,
        xy=[grid.xy(r, c) for r, c in cells],
        keepout_xy=grid.xy(*blocked),
    )


def run_route(src, out, *args):
    return CliRunner().invoke(main, ["route", str(src), "-o", str(out), "-q", "--json", *args])


def route_ok(site, out, *args):
    res = run_route(site.hazard, out, *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def route_line(out) -> tuple[np.ndarray, dict]:
    doc = json.loads((out / "route.geojson").read_text())
    (feat,) = [f for f in doc["features"] if f["properties"]["kind"] == "route"]
    return np.array(feat["geometry"]["coordinates"]), doc


def to_cells(grid: Dem, xy: np.ndarray) -> np.ndarray:
    col, row = ~grid.transform @ (xy[:, 0], xy[:, 1])
    return np.stack([np.floor(row), np.floor(col)], axis=1).astype(int)


def read_legs(out) -> list[dict]:
    with open(out / "legs.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def read_matrix(out) -> np.ndarray:
    with open(out / "travel_matrix.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["from\\to", "1", "2", "3"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    return np.array([[float(v) for v in r[1:]] for r in rows[1:]])


def leg_costs(site, order, slope=None) -> list[float]:
    res = site.grid.res_m
    return [
        shortest_path(site.cost, site.cells[a], site.cells[b], res_m=res, slope=slope).cost
        for a, b in zip(order[:-1], order[1:], strict=True)
    ]


def polyline_cost(cost: np.ndarray, cells: np.ndarray, res_m: float) -> float:
    """Edge cost of 8-neighbour moves, by hand: step length times the mean of the two cells."""
    steps = np.diff(cells, axis=0)
    assert np.abs(steps).max() == 1, "unsmoothed vertices must be 8-neighbours"
    c = cost[cells[:, 0], cells[:, 1]]
    return float(np.sum(res_m * np.hypot(*steps.T) * (c[:-1] + c[1:]) / 2.0))


# --------------------------------------------------------------------------------------------
# costs and geometry


def test_route_cost_is_the_sum_of_independent_legs(site, tmp_path):
    out = tmp_path / "rt"
    summary = route_ok(site, out, "--no-smooth", *site.via(0, 1, 2))
    expected = leg_costs(site, [0, 1, 2])
    assert summary["cost"] == pytest.approx(sum(expected), rel=1e-12)

    xy, doc = route_line(out)
    cells = to_cells(site.grid, xy)
    assert np.isfinite(site.cost[cells[:, 0], cells[:, 1]]).all()
    # the written vertices alone give the cost back, by the edge-cost formula
    assert polyline_cost(site.cost, cells, site.grid.res_m) == pytest.approx(
        summary["cost"], rel=1e-12
    )
    hits = [int(np.flatnonzero((cells == c).all(axis=1))[0]) for c in site.cells]
    assert hits[0] == 0 and hits[-1] == len(cells) - 1 and hits == sorted(hits)

    props = doc["properties"]
    assert props["frigoris_product"] == "route" and props["n_waypoints"] == 3
    assert props["smoothed"] is False and props["cost"] == summary["cost"]
    assert CRS.from_wkt(doc["crs"]["properties"]["name"]) == site.grid.crs
    leg_feats = [f for f in doc["features"] if f["properties"]["kind"] == "leg"]
    assert [f["properties"]["cost"] for f in leg_feats] == pytest.approx(expected, rel=1e-12)
    points = [f for f in doc["features"] if f["properties"]["kind"] == "waypoint"]
    assert [p["geometry"]["coordinates"] for p in points] == [list(p) for p in site.xy]

    legs = read_legs(out)
    assert [(r["leg"], r["from"], r["to"]) for r in legs] == [("1", "1", "2"), ("2", "2", "3")]
    assert [float(r["cost"]) for r in legs] == pytest.approx(expected, rel=1e-12)
    assert sum(float(r["cost"]) for r in legs) == pytest.approx(summary["cost"], rel=1e-12)
    assert sum(float(r["length_m"]) for r in legs) == pytest.approx(summary["length_m"])
    assert summary["length_m"] == pytest.approx(props["length_m"], rel=1e-12)


def test_single_leg_matches_mcp_geometric(site, tmp_path):
    summary = route_ok(site, tmp_path / "rt", "--no-smooth", *site.via(0, 1))
    res = site.grid.res_m
    cum, _ = MCP_Geometric(site.cost, sampling=(res, res)).find_costs(
        [site.cells[0]], [site.cells[1]]
    )
    assert summary["cost"] == pytest.approx(cum[site.cells[1]], rel=1e-9)


def test_smoothed_route_never_enters_keepout_and_costs_no_more(site, tmp_path):
    out = tmp_path / "rt"
    summary = route_ok(site, out, *site.via(0, 1, 2))
    xy, doc = route_line(out)
    cells = to_cells(site.grid, xy)
    assert doc["properties"]["smoothed"] is True
    assert np.isfinite(site.cost[cells[:, 0], cells[:, 1]]).all()
    assert all((cells == c).all(axis=1).any() for c in site.cells), "waypoints stay vertices"
    # Points at t = k/97 along a segment between cell centres never lie on a cell edge (odd
    # denominator), so each sample is inside exactly one cell: none may be keep-out.
    t = np.arange(98)[:, None] / 97.0
    samples = np.concatenate([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:], strict=True)])
    inside = to_cells(site.grid, samples)
    assert np.isfinite(site.cost[inside[:, 0], inside[:, 1]]).all()
    assert summary["cost"] <= sum(leg_costs(site, [0, 1, 2])) * (1 + 1e-12)
    grid_legs = [
        shortest_path(site.cost, site.cells[a], site.cells[b], res_m=site.grid.res_m)
        for a, b in ((0, 1), (1, 2))
    ]
    assert summary["vertices"] == len(xy) < sum(len(p) for p in grid_legs) - 1
    assert (out / "route.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_matrix_is_symmetric_without_slope(site, tmp_path):
    out = tmp_path / "rt"
    summary = route_ok(site, out, "--matrix", "--no-smooth", *site.via(0, 1, 2))
    m = read_matrix(out)
    np.testing.assert_array_equal(np.diag(m), 0.0)
    np.testing.assert_allclose(m, m.T, rtol=1e-12)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert m[i, j] == pytest.approx(leg_costs(site, [i, j])[0], rel=1e-9)
    assert summary["cost"] == pytest.approx(m[0, 1] + m[1, 2], rel=1e-12)
    assert summary["cost"] == pytest.approx(sum(leg_costs(site, [0, 1, 2])), rel=1e-9)


def test_matrix_is_asymmetric_with_uphill_weight(site, tmp_path):
    out = tmp_path / "rt"
    route_ok(
        site, out, "--matrix", "--no-smooth", "--uphill-per-m", str(UPHILL), *site.via(0, 1, 2)
    )
    m = read_matrix(out)
    z = np.array([site.elevation[c] for c in site.cells])
    # Reversing a path swaps climbs and descents, so with an uphill weight only
    # cost(i -> j) - cost(j -> i) = w * (z_j - z_i) exactly, whatever the terrain.
    assert np.abs(z[:, None] - z[None, :]).max() > 0.05
    np.testing.assert_allclose(m - m.T, UPHILL * (z[None, :] - z[:, None]), atol=1e-9 * m.max())
    slope = SlopeTerm(site.elevation, uphill_per_m=UPHILL)
    assert m[0, 1] == pytest.approx(leg_costs(site, [0, 1], slope)[0], rel=1e-9)
    assert m[1, 0] == pytest.approx(leg_costs(site, [1, 0], slope)[0], rel=1e-9)


# --------------------------------------------------------------------------------------------
# a hand-checked 8 x 8 grid


@pytest.fixture
def ramp(make_dem, tmp_path):
    """8 x 8 at 0.5 m, cost 2 everywhere, rising 0.125 m per column eastwards (exact in float32)."""

    def _make(wall: bool = False) -> tuple[pathlib.Path, Dem]:
        z = np.tile(0.125 * np.arange(8.0), (8, 1))
        dem = make_dem(z, res_m=0.5)
        cost = np.full((8, 8), 2.0)
        if wall:
            cost[:, 4] = np.inf
        layers = {"elevation": z, "cost": cost, "keepout": ~np.isfinite(cost)}
        return write_geotiff(tmp_path / "hazard.tif", layers, dem), dem

    return _make


@pytest.mark.parametrize(
    "direction, extra, cost",
    [
        ("east", [], 7.0),  # 7 moves x 0.5 m x cost 2
        ("east", ["--uphill-per-m", "8"], 14.0),  # + 8 x 0.875 m climbed
        ("west", ["--uphill-per-m", "8"], 7.0),  # all downhill: no climb term
        ("west", ["--uphill-per-m", "8", "--downhill-per-m", "1"], 7.875),  # + 1 x 0.875 m
    ],
)
def test_hand_checked_ramp(ramp, tmp_path, direction, extra, cost):
    path, dem = ramp()
    ends = [dem.xy(3, 0), dem.xy(3, 7)]
    if direction == "west":
        ends.reverse()
    via = [a for x, y in ends for a in ("--via", f"xy:{x},{y}")]
    res = run_route(path, tmp_path / "rt", *via, *extra)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["cost"] == pytest.approx(cost, rel=1e-12)
    assert summary["length_m"] == pytest.approx(3.5, rel=1e-12)
    xy, _ = route_line(tmp_path / "rt")
    assert xy.tolist() == [list(p) for p in ends], "smoothing leaves one straight segment"


def test_walled_off_leg_is_named(ramp, tmp_path):
    path, dem = ramp(wall=True)
    (x0, y0), (x1, y1) = dem.xy(3, 0), dem.xy(3, 7)
    res = run_route(path, tmp_path / "rt", "--via", f"xy:{x0},{y0}", "--via", f"xy:{x1},{y1}")
    assert res.exit_code == 1
    assert "leg 1 (waypoint 1 -> 2): no connection" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "rt").exists()


# --------------------------------------------------------------------------------------------
# user errors and failed writes


def _outside(site):
    b = site.grid.bounds
    return [*site.via(0), "--via", f"xy:{b.right + 10},{b.top - 1}"]


def _in_keepout(site):
    x, y = site.keepout_xy
    return [*site.via(0, 1), "--via", f"xy:{x},{y}"]


@pytest.mark.parametrize(
    "src, make_args, message",
    [
        ("hazard", _outside, "waypoint 2 ("),
        ("hazard", _in_keepout, "waypoint 3 ("),
        ("dem", lambda s: s.via(0, 1), "has no 'cost' band; run `frigoris hazard"),
        ("hazard", lambda s: s.via(0), "at least 2 waypoints"),
        ("hazard", lambda s: [], "at least 2 waypoints"),
    ],
    ids=["outside", "keep-out", "no-cost-band", "one-via", "no-via"],
)
def test_user_errors_are_one_line_and_leave_no_folder(site, tmp_path, src, make_args, message):
    out = tmp_path / "rt"
    res = run_route(site.hazard if src == "hazard" else site.dem, out, *make_args(site))
    assert res.exit_code == 1
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        ("xy:1;2", "is not two numbers"),
        ("xy:1,2,3", "is not two numbers"),
        ("xy:nan,2", "not a finite number"),
        ("1,2", "does not say which coordinates"),
    ],
    ids=["semicolon", "three", "nan", "no-kind"],
)
def test_malformed_waypoints_are_usage_errors(site, tmp_path, bad, message):
    out = tmp_path / "rt"
    res = run_route(site.hazard, out, *site.via(0), "--via", bad)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_error_messages_say_what_is_wrong(site, tmp_path):
    res = run_route(site.hazard, tmp_path / "a", *_outside(site))
    assert "is outside the map" in res.output
    res = run_route(site.hazard, tmp_path / "b", *_in_keepout(site))
    x, y = site.keepout_xy
    assert f"waypoint 3 (xy:{x:g},{y:g}) is in keep-out" in res.output


def test_failed_write_removes_the_new_folder(site, tmp_path, monkeypatch):
    def broken_save(fig, path, dpi=130):
        figures.plt.close(fig)
        raise OSError("disk full")

    monkeypatch.setattr(figures, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        route_job(site.hazard, tmp_path / "new" / "rt", site.positions(0, 1))
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(OSError, match="disk full"):
        route_job(site.hazard, kept / "rt", site.positions(0, 1))
    assert kept.exists() and not (kept / "rt").exists()


def test_a_hazard_map_copied_without_its_masks_is_named(site, tmp_path):
    """`hazard.tif` keeps its byte masks in `hazard_masks.tif`: copied alone, one line says so."""
    lone = tmp_path / "copy" / "hazard.tif"
    lone.parent.mkdir()
    shutil.copy(site.hazard, lone)
    out = tmp_path / "rt"
    res = run_route(lone, out, *site.via(0, 1))
    assert res.exit_code == 1
    assert "keeps its masks in 'hazard_masks.tif', which is not beside it" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not out.exists()
    shutil.copy(site.hazard.with_name("hazard_masks.tif"), lone.parent)  # with both: a route
    assert run_route(lone, out, *site.via(0, 1)).exit_code == 0
