"""Tiled hazard maps against the in-memory hazard_map: equal layers (the one per-window model),
deduplicated catalogues, bounded shadow differences, the same result on a dask.distributed
cluster."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from scipy.ndimage import gaussian_filter
from scipy.spatial import cKDTree

from frigoris.terrain import Dem
from frigoris.terrain.craters import DetectedCraters, crater_mask
from frigoris.terrain.errors import GridError, HazardInputError, TerrainError
from frigoris.terrain.hazard import HazardLimits, LanderSite, hazard_map
from frigoris.terrain.illumination import block_stats, cast_shadow, tile_shadow
from frigoris.terrain.io import open_source, read_layers, write_geotiff
from frigoris.terrain.synth import synthesize
from frigoris.terrain.tiled import crater_halo_px, crater_levels, tiled_hazard, tiles_of

SUN = (108.0, 11.8)
LANDER = LanderSite(10.0, -20.0)
TILE = 256


def _differ(a: np.ndarray, b: np.ndarray) -> int:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())


def _points(x, y) -> np.ndarray:
    return np.column_stack([np.asarray(x, float), np.asarray(y, float)]).reshape(-1, 2)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A 600 x 600 synthetic site (craters up to 20 m: all below the tiles' 40 m cap), written
    to a GeoTIFF, its in-memory hazard map and its tiled one (tiles of 256 px)."""
    folder = tmp_path_factory.mktemp("tiled")
    s = synthesize(size_m=300, res_m=0.5, seed=1, crater_max_m=20.0)
    path = write_geotiff(folder / "dem.tif", s.dem.elevation, s.dem)
    hm = hazard_map(s.dem, sun=SUN, lander=LANDER)
    calls = []
    th = tiled_hazard(
        path,
        folder / "hazard.tif",
        sun=SUN,
        lander=LANDER,
        tile_px=TILE,
        progress=lambda f, stage="": calls.append((f, stage)),
    )
    layers, grid = read_layers(th.path)
    return {
        "dem": s.dem,
        "path": path,
        "hm": hm,
        "th": th,
        "layers": layers,
        "grid": grid,
        "calls": calls,
        "folder": folder,
    }


def test_every_layer_equals_the_in_memory_map(site):
    hm, layers = site["hm"], site["layers"]
    assert site["th"].n_tiles == 9  # 600 = 256 + 256 + 88: ragged last tiles too
    assert list(layers) == list(hm.layers())
    for name, ref in hm.layers().items():
        assert _differ(layers[name], ref) == 0, name
    assert site["grid"].transform == site["dem"].transform
    assert hm.crater_mask.any() and hm.shadow.any() and (~hm.los_lander).any()
    assert (hm.keepout_reason & (1 << 3)).any()  # risk
    for name in ("keepout_reason", "crater_mask", "keepout"):
        assert layers[name].dtype == np.uint8, name


def test_catalogues_are_deduplicated_and_equal(site):
    hm, th = site["hm"], site["th"]
    assert len(th.craters) == len(hm.craters) > 100
    assert len(th.rocks) == len(hm.rocks) > 10
    # every in-memory crater once, at the same place and size
    a, b = _points(hm.craters.x, hm.craters.y), _points(th.craters.x, th.craters.y)
    dist, j = cKDTree(b).query(a)
    assert np.unique(j).size == j.size
    # detect_craters subtracts the median height of what it is given (the tile window), so its
    # float32 filters round differently: centres agree to 1e-3 m, sizes exactly
    assert dist.max() < 1e-3
    np.testing.assert_allclose(th.craters.diameter_m[j], hm.craters.diameter_m, rtol=1e-9)
    np.testing.assert_allclose(th.craters.depth_m[j], hm.craters.depth_m, rtol=1e-4, atol=1e-5)
    # rocks: identical up to the summation order of their centres
    a, b = _points(hm.rocks.x, hm.rocks.y), _points(th.rocks.x, th.rocks.y)
    dist, j = cKDTree(b).query(a)
    assert np.unique(j).size == j.size and dist.max() < 1e-6
    np.testing.assert_allclose(th.rocks.height_m[j], hm.rocks.height_m, rtol=1e-6)


def test_summary_numbers_add_up_from_tiles(site):
    """One summary builder for both: the tiled one equals the in-memory one, whose numbers
    equal the arrays'."""
    hm, th = site["hm"], site["th"]
    assert th.keepout_share == pytest.approx(hm.keepout_share, abs=1e-12)
    s, m = th.summary(), hm.summary()
    for key, value in m.items():
        assert s[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value)
    assert th.notes() == hm.notes()
    valid = np.isfinite(hm.grid.elevation)
    assert m["keepout_fraction"] == pytest.approx(hm.keepout[valid].mean(), abs=1e-12)
    assert m["keepout_certain_fraction"] == pytest.approx(hm.certain_keepout()[valid].mean())
    assert m["shadow_fraction"] == pytest.approx(hm.shadow[valid].mean(), abs=1e-12)
    assert m["comm_ok_fraction"] == pytest.approx(hm.comm_ok()[valid].mean(), abs=1e-12)
    assert m["mean_rock_risk"] == pytest.approx(float(np.nanmean(hm.rock_risk)), rel=1e-6)
    assert m["mean_risk"] == pytest.approx(float(np.nanmean(hm.risk)), rel=1e-5)
    # the median comes from a histogram of 0.01 deg bins
    assert abs(m["median_slope_rover_deg"] - np.nanmedian(hm.slope_rover_deg)) <= 0.01
    assert s["craters_detected"] == len(hm.craters) and s["tiles"] == 9


def test_far_field_bound_is_reported(site):
    th = site["th"]
    # a steep crater wall sets the relief; plus the Sun's rise over half a coarse step
    rise = 0.5 * 8 * 0.5 * np.sqrt(2) * np.tan(np.radians(SUN[1]))
    assert th.far_error_m > rise
    near_m = max(th.halo_px, th.shadow_halo_px) * 0.5
    assert th.far_angle_bound_deg == pytest.approx(np.degrees(np.arctan2(th.far_error_m, near_m)))


def test_progress_runs_over_tiles_to_one(site):
    fractions = [f for f, _ in site["calls"]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    stages = [s for _, s in site["calls"]]
    assert "craters 9/9 tiles" in stages and "hazard 9/9 tiles" in stages


def test_output_is_a_cog_with_tags(site, tmp_path):
    th = tiled_hazard(
        site["path"],
        tmp_path / "h.tif",
        detect=False,
        tile_px=TILE,
        tags={"frigoris_product": "hazard map"},
    )
    with rasterio.open(th.path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.tags()["frigoris_product"] == "hazard map"
        assert ds.tags()["frigoris_masks_file"] == "h_masks.tif"
        assert ds.descriptions[0] == "elevation" and ds.descriptions[-1] == "cost"
        assert set(ds.dtypes) == {"float32"}
    with rasterio.open(tmp_path / "h_masks.tif") as ds:  # the masks as bytes
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.descriptions[-1] == "keepout_reason" and set(ds.dtypes) == {"uint8"}
    # no temporary files left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.tif", "h_masks.tif"]


def test_nodata_non_square_grid_and_rock_raster(tmp_path):
    """Holes, a nodata border, a 600 x 440 grid and a per-cell rock abundance: still equal."""
    s = synthesize(size_m=300, res_m=0.5, seed=1, crater_max_m=20.0)
    z = s.dem.elevation[:, :440].copy()
    yy, xx = np.mgrid[:600, :440]
    z[(yy - 300) ** 2 + (xx - 200) ** 2 < 30**2] = np.nan
    z[:, :7] = np.nan
    z[500:520, 100:400] = np.nan
    dem = Dem(z, s.dem.transform, s.dem.crs)
    k = s.rock_abundance[:, :440] * 3.0
    write_geotiff(tmp_path / "dem.tif", z, dem)
    write_geotiff(tmp_path / "k.tif", k, dem)
    sun, lander = (200.0, 5.0), LanderSite(-20.0, 40.0)
    hm = hazard_map(dem, sun=sun, lander=lander, rock_abundance=k)
    th = tiled_hazard(
        tmp_path / "dem.tif",
        tmp_path / "hz.tif",
        sun=sun,
        lander=lander,
        rock_abundance=tmp_path / "k.tif",
        tile_px=128,
    )
    layers, _ = read_layers(th.path)
    for name, ref in hm.layers().items():
        assert _differ(layers[name], ref) == 0, name
    assert len(th.craters) == len(hm.craters) and len(th.rocks) == len(hm.rocks)
    assert hm.keepout_share["risk"] > 0


def test_craters_above_the_cap_are_left_to_memory(tmp_path):
    """On a site with craters up to ~45 m the tiles find every crater below cap / 1.5 and the
    crater mask agrees away from the larger craters."""
    s = synthesize(size_m=300, res_m=0.5, seed=2)
    write_geotiff(tmp_path / "dem.tif", s.dem.elevation, s.dem)
    hm = hazard_map(s.dem, detect=True)
    th = tiled_hazard(tmp_path / "dem.tif", tmp_path / "hz.tif", tile_px=TILE)
    cap_m = th.max_crater_px * s.dem.res_m
    assert hm.craters.diameter_m.max() > cap_m  # the case at hand
    assert th.craters.diameter_m.max() < cap_m
    small_h = hm.craters.diameter_m < cap_m / 1.5
    small_t = th.craters.diameter_m < cap_m / 1.5
    a = _points(hm.craters.x[small_h], hm.craters.y[small_h])
    b = _points(th.craters.x[small_t], th.craters.y[small_t])
    assert len(a) == len(b)
    assert cKDTree(b).query(a)[0].max() < 1e-3
    away = np.ones(s.dem.shape, dtype=bool)
    for c, big in ((hm.craters, ~small_h), (th.craters, ~small_t)):  # either side's large ones
        away &= ~crater_mask(
            DetectedCraters(c.x[big], c.y[big], c.diameter_m[big] + 1.0, c.depth_m[big]),
            s.dem.shape,
            s.dem.transform,
        )
    assert away.mean() > 0.8
    layers, _ = read_layers(th.path)
    assert ((layers["crater_mask"] > 0.5) == hm.crater_mask)[away].all()
    # every layer but the crater mask is local or whole-grid: equal
    for name in ("slope_rover_deg", "step_m", "risk", "keepout_reason", "cost"):
        assert _differ(layers[name], hm.layers()[name]) == 0, name


def test_crater_halo_holds_the_fit_and_aligns_the_pyramid():
    assert crater_levels(80) == 2
    for cap in (20, 40, 80, 160):
        halo = crater_halo_px(cap)
        assert halo % (2 ** (crater_levels(cap) + 1)) == 0
        assert halo >= 1.84 * cap + cap / 2  # fit window 2.5 x 1.4 x 1.05 R, plus NMS chains
    with pytest.raises(TerrainError, match="band edge"):
        crater_levels(100)


# --- shadows: exact near field, block-mean far field -------------------------------------------


def _tiled_shadow(z, res, az, el, tile, halo, f):
    coarse = block_stats(z, f)[0]
    out = np.zeros(z.shape, dtype=bool)
    for t in tiles_of(z.shape, tile):
        r0, r1, c0, c1 = t.window(halo, z.shape)
        out[t.r0 : t.r1, t.c0 : t.c1] = tile_shadow(
            z[r0:r1, c0:c1], (r0, c0), (t.r0, t.r1, t.c0, t.c1), z.shape, res, az, el, coarse, f
        )
    return out


@pytest.fixture(scope="module")
def rough():
    """Very rough terrain: Gaussian-filtered noise, ~60 m relief on 0.5 m pixels."""
    rng = np.random.default_rng(7)
    z = (gaussian_filter(rng.normal(size=(512, 384)), 8.0) * 200.0).astype(np.float32)
    z[100:130, 200:260] = np.nan
    return z


@pytest.mark.parametrize("az, el", [(0.0, 20.0), (90.0, 5.0), (135.0, 2.0), (251.0, 0.8)])
def test_tile_shadow_is_cast_shadow_when_the_window_holds_the_grid(rough, az, el):
    ref = cast_shadow(rough, 0.5, az, el)
    got = _tiled_shadow(rough, 0.5, az, el, tile=128, halo=1000, f=8)
    assert 0.05 < ref.mean() < 0.99
    assert np.array_equal(got, ref)


@pytest.mark.parametrize("az, el", [(108.0, 11.8), (45.0, 3.0), (200.0, 1.5), (90.0, 0.7)])
def test_far_field_from_block_means_agrees_on_99_percent(rough, az, el):
    """Near field 32 px (the default is 256): most shadow edges come from the 8x far field."""
    ref = cast_shadow(rough, 0.5, az, el)
    got = _tiled_shadow(rough, 0.5, az, el, tile=128, halo=32, f=8)
    assert (got == ref).mean() >= 0.99
    assert (got != ref).any()  # the far field is an approximation: not trivially equal


def test_shadow_at_or_below_the_horizon_is_everywhere(rough):
    got = tile_shadow(
        rough, (0, 0), (0, 10, 0, 20), rough.shape, 0.5, 90.0, 0.0, block_stats(rough, 8)[0], 8
    )
    assert got.shape == (10, 20) and got.all()


def test_block_stats_are_nan_aware():
    z = np.zeros((64, 64), np.float32)
    z[10, 10] = 4.0
    mean, lo, hi = block_stats(z, 8)
    assert mean[1, 1] == pytest.approx(4.0 / 64) and hi[1, 1] == 4.0 and lo[1, 1] == 0.0
    z[:8, :8] = np.nan
    mean, lo, hi = block_stats(z, 8)
    assert np.isnan(mean[0, 0]) and np.isnan(lo[0, 0]) and mean[0, 1] == 0.0


# --- the link field -------------------------------------------------------------------------


def test_link_field_is_the_in_memory_one_on_a_radio_grid(site):
    """The tiled path reads the link box strip by strip into the radio grid: the same cells,
    so the same margins, as the in-memory map (here at 2 m radio cells, 4 DEM cells)."""
    hm, th = site["hm"], site["th"]
    assert th.los_factor == hm.link.factor == 4
    np.testing.assert_array_equal(site["layers"]["link_margin_db"], hm.link_margin_db)
    assert (hm.link_margin_db < 0).any() and (hm.link_margin_db > 0).any()


# --- errors -------------------------------------------------------------------------------


def test_user_errors(site, tmp_path):
    path = site["path"]
    with pytest.raises(TerrainError, match="multiple of 64"):
        tiled_hazard(path, tmp_path / "h.tif", tile_px=100)
    with pytest.raises(TerrainError, match="band edge"):
        tiled_hazard(path, tmp_path / "h.tif", max_crater_px=50)
    with pytest.raises(HazardInputError, match="outside the DEM"):
        tiled_hazard(path, tmp_path / "h.tif", lander=LanderSite(5000.0, 0.0), tile_px=TILE)
    with pytest.raises(HazardInputError, match="max_slope_deg"):
        tiled_hazard(path, tmp_path / "h.tif", HazardLimits(max_slope_deg=-1), tile_px=TILE)
    other = Dem(np.zeros((100, 100), np.float32), site["dem"].transform, site["dem"].crs)
    write_geotiff(tmp_path / "k.tif", other.elevation, other)
    with pytest.raises(HazardInputError, match="not on the DEM's grid"):
        tiled_hazard(path, tmp_path / "h.tif", rock_abundance=tmp_path / "k.tif", tile_px=TILE)
    assert not (tmp_path / "h.tif").exists()


def test_nodata_lander_and_empty_dem(make_dem, tmp_path):
    z = np.full((128, 128), -2430.0, np.float32)
    z[60:70, 60:70] = np.nan
    dem = make_dem(z)
    write_geotiff(tmp_path / "dem.tif", z, dem)
    with pytest.raises(HazardInputError, match="nodata cell"):
        tiled_hazard(
            tmp_path / "dem.tif", tmp_path / "h.tif", lander=LanderSite(0.5, 0.5), tile_px=64
        )
    empty = make_dem(np.full((64, 64), np.nan, np.float32))
    write_geotiff(tmp_path / "empty.tif", empty.elevation, empty)
    with pytest.raises(HazardInputError, match="no data"):
        tiled_hazard(tmp_path / "empty.tif", tmp_path / "h.tif", tile_px=64)
    assert not (tmp_path / "h.tif").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_geographic_grid_must_be_warped_first(tmp_path):
    from rasterio.transform import from_origin

    from frigoris.terrain.crs import MOON_GEOGRAPHIC

    with rasterio.open(
        tmp_path / "geo.tif",
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="float32",
        crs=MOON_GEOGRAPHIC,
        transform=from_origin(-5.0, 61.0, 0.001, 0.001),
    ) as ds:
        ds.write(np.zeros((1, 64, 64), np.float32))
    with pytest.raises(GridError, match="gdalwarp"):
        open_source(tmp_path / "geo.tif")


# --- dask.distributed ----------------------------------------------------------------------


def test_local_cluster_gives_the_same_map(site, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        # by address, as `frigoris hazard --scheduler tcp://...` does
        th = tiled_hazard(
            site["path"],
            tmp_path / "hz.tif",
            sun=SUN,
            lander=LANDER,
            tile_px=TILE,
            scheduler=cluster.scheduler_address,
        )
    layers, _ = read_layers(th.path)
    for name, ref in site["layers"].items():
        assert _differ(layers[name], ref) == 0, name
    np.testing.assert_array_equal(th.craters.x, site["th"].craters.x)
    np.testing.assert_array_equal(th.rocks.y, site["th"].rocks.y)
    assert th.keepout_share == site["th"].keepout_share


def test_dem_grid_needs_no_data(site):
    src, grid = open_source(site["path"])
    assert grid.shape == (600, 600) and grid.elevation.strides == (0, 0)
    assert grid.transform == site["dem"].transform and grid.crs == site["dem"].crs
    assert src.minus_m == 0.0 and src.factor == 1.0


def test_tile_shadow_checks_its_inputs(rough):
    coarse = block_stats(rough, 8)[0]
    with pytest.raises(GridError, match="inside the window"):
        tile_shadow(rough[:64, :64], (0, 0), (0, 100, 0, 10), rough.shape, 0.5, 90, 10, coarse, 8)
    with pytest.raises(GridError, match="coarse grid"):
        tile_shadow(rough, (0, 0), (0, 10, 0, 10), rough.shape, 0.5, 90, 10, coarse[1:], 8)


def test_decimated_reasons_are_whole_reasons(site):
    """The picture of a tiled map reads the reasons through overviews: each is a real cell's."""
    from frigoris.terrain.io import read_layers_decimated

    full = site["layers"]["keepout_reason"]
    layers, grid = read_layers_decimated(site["th"].path, max_px=300)
    small = layers["keepout_reason"]
    assert small.dtype == np.uint8 and grid.shape == (300, 300)
    assert set(np.unique(small)) <= set(np.unique(full))  # an average would make new codes
    assert len(np.unique(small)) > 2  # more than "none" and one reason survive
    assert layers["slope_deg"].dtype == np.float32  # float layers still averaged
