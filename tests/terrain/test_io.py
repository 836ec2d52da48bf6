"""DEM reading and writing, against GDAL's own tools and hand-built rasters."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from frigoris import terrain
from frigoris.terrain import crs as lcrs
from frigoris.terrain.errors import TerrainError
from frigoris.terrain.io import _available_bytes, read_layers, read_tags, write_geotiff
from frigoris.terrain.slope import slope_deg
from tests.conftest import run_gdal


def _write_raw(path, z, *, crs, transform, nodata=None, scale=1.0, offset=0.0, dtype=None):
    dtype = dtype or z.dtype
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=z.shape[1],
        height=z.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as ds:
        ds.write(z.astype(dtype), 1)
        ds.scales = (scale,)
        ds.offsets = (offset,)
    return path


# ---------------------------------------------------------------- round trip
def test_write_read_round_trip_keeps_values_crs_transform_nodata(tmp_path, make_dem):
    rng = np.random.default_rng(3)
    z = (rng.normal(size=(300, 260)) * 5 - 2400).astype(np.float32)
    z[10:20, 30:45] = np.nan
    dem = make_dem(z, res_m=0.75)
    out = terrain.write_geotiff(
        tmp_path / "rt.tif", {"elevation": z, "twice": 2 * z}, dem, tags={"seed": 5}
    )
    back = terrain.read_dem(out)
    np.testing.assert_array_equal(back.elevation, dem.elevation)
    assert back.transform == dem.transform
    assert back.crs == dem.crs
    layers, grid = terrain.read_layers(out)
    assert list(layers) == ["elevation", "twice"]
    np.testing.assert_array_equal(layers["twice"], 2 * dem.elevation)
    assert terrain.read_tags(out)["seed"] == "5"
    # GDAL's own view: COG layout, Moon CRS, nodata NaN, band names, overviews.
    info = json.loads(run_gdal("gdalinfo", "-json", str(out)))
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    # the codec chosen by measurement (benchmarks/bench_cog.py); two bands interleaved by
    # pixel: horizontal differencing (the float predictor is for one band, below)
    assert info["metadata"]["IMAGE_STRUCTURE"]["COMPRESSION"] == "ZSTD"
    assert info["metadata"]["IMAGE_STRUCTURE"]["PREDICTOR"] == "2"
    assert "Moon (2015)" in info["coordinateSystem"]["wkt"]
    assert [b["description"] for b in info["bands"]] == ["elevation", "twice"]
    assert str(info["bands"][0]["noDataValue"]).lower() == "nan"


def test_write_geotiff_builds_overviews_and_leaves_no_temp_on_failure(tmp_path, make_dem):
    dem = make_dem(np.zeros((1200, 1100)), res_m=1.0)
    out = terrain.write_geotiff(tmp_path / "big.tif", dem.elevation, dem)
    info = json.loads(run_gdal("gdalinfo", "-json", str(out)))
    assert len(info["bands"][0]["overviews"]) >= 2
    assert info["metadata"]["IMAGE_STRUCTURE"]["PREDICTOR"] == "3"  # one float band
    with pytest.raises(terrain.TerrainError, match="shape"):
        terrain.write_geotiff(tmp_path / "bad.tif", {"x": np.zeros((3, 3))}, dem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tif"]


def test_square_metric_dem_is_used_without_resampling(tmp_path, site_crs):
    z = np.arange(50 * 40, dtype=np.float32).reshape(50, 40)
    t = Affine(2.0, 0, 1000.0, 0, -2.0, 5000.0)
    path = _write_raw(tmp_path / "m.tif", z, crs=site_crs, transform=t)
    dem = terrain.read_dem(path)
    assert dem.transform == t
    np.testing.assert_array_equal(dem.elevation, z)


# ---------------------------------------------------------------- the real LOLA crop
def test_lola_crop_elevations_match_gdal(lola_path):
    stats = json.loads(run_gdal("gdalinfo", "-json", "-stats", str(lola_path)))["bands"][0]
    assert stats["mean"] == pytest.approx(-2300.2, abs=0.5)  # README of the crop
    dem = terrain.read_dem(lola_path)
    assert np.nanmin(dem.elevation) >= stats["minimum"] - 1e-3
    assert np.nanmax(dem.elevation) <= stats["maximum"] + 1e-3
    # Equirectangular at 50-65 N is anisotropic on the ground: it must be resampled to metres.
    assert lcrs.is_metric_projected(dem.crs) and "tmerc" in dem.crs.to_proj4()
    assert dem.res_m == pytest.approx(7580.84 * math.cos(math.radians(57.5)), rel=0.01)


def test_lola_window_around_target_matches_raw_cell(lola_path):
    dem = terrain.read_dem(lola_path, around=(60.5, -4.6), size_m=60_000)
    assert dem.shape[0] == dem.shape[1]
    assert dem.shape[0] * dem.res_m == pytest.approx(60_000)
    # The centre of the window is the target; its value interpolates the raw 3x3 cells there.
    with rasterio.open(lola_path) as src:
        x, y = lcrs.lunar_to_crs(src.crs, 60.5, -4.6)
        r, c = src.index(x, y)
        raw = src.read(1)[r - 1 : r + 2, c - 1 : c + 2]
    centre = dem.elevation[dem.rowcol(0.0, 0.0)]
    assert raw.min() - 1 <= centre <= raw.max() + 1
    assert np.nanmean(dem.elevation) == pytest.approx(-2430, abs=60)


def test_pds3_label_with_radius_offset_reads_as_elevation(tmp_path):
    rows, cols = 40, 80
    dn = (np.arange(rows * cols).reshape(rows, cols) % 200).astype("<i2")
    dn.tofile(tmp_path / "T.IMG")
    (tmp_path / "T.LBL").write_text(PDS3_LABEL.format(rows=rows, cols=cols, rb=cols * 2))
    dem = terrain.read_dem(tmp_path / "T.LBL")
    # DN x 0.5 + 1737400 is a radius; elevation is relative to the 1737.4 km sphere.
    assert np.nanmin(dem.elevation) == pytest.approx(0.0, abs=0.01)
    assert np.nanmax(dem.elevation) == pytest.approx(99.5, abs=0.01)


def test_radius_in_kilometres_is_converted(tmp_path, site_crs):
    z = np.full((20, 20), 1737.3, dtype=np.float32)  # km radius: 100 m below the sphere
    path = _write_raw(tmp_path / "km.tif", z, crs=site_crs, transform=Affine(5, 0, 0, 0, -5, 0))
    with rasterio.open(path, "r+") as ds:
        ds.units = ("km",)
    dem = terrain.read_dem(path)
    np.testing.assert_allclose(dem.elevation, -100.0, atol=0.05)


def test_scale_offset_and_nodata_applied(tmp_path, site_crs):
    z = np.full((20, 20), 100, dtype=np.int16)
    z[0, 0] = -32768
    path = _write_raw(
        tmp_path / "so.tif",
        z,
        crs=site_crs,
        transform=Affine(5, 0, 0, 0, -5, 0),
        nodata=-32768,
        scale=0.5,
        offset=-2500.0,
    )
    dem = terrain.read_dem(path)
    assert np.isnan(dem.elevation[0, 0])
    np.testing.assert_allclose(dem.elevation[1:, 1:], -2450.0)


# ---------------------------------------------------------------- reprojection keeps slope
def test_tilted_plane_in_geographic_crs_keeps_its_slope(tmp_path):
    """A plane of 12 deg slope to the east, sampled on a lon/lat grid, reads back at 12 deg."""
    lat0, lon0, true_slope = 60.5, -4.6, 12.0
    local = terrain.local_metric_crs(lat0, lon0)
    dlat = 0.5 / 30323.0  # about 0.5 m of latitude
    n_lat, n_lon = 200, 100
    lats = lat0 + (np.arange(n_lat)[::-1] - n_lat / 2 + 0.5) * dlat
    lons = lon0 + (np.arange(n_lon) - n_lon / 2 + 0.5) * 2 * dlat  # ~0.5 m of longitude at 60 N
    lon_g, lat_g = np.meshgrid(lons, lats)
    x, _ = lcrs.lunar_to_crs(local, lat_g, lon_g)
    z = (np.tan(np.radians(true_slope)) * x).astype(np.float32)
    t = Affine(2 * dlat, 0, lons[0] - dlat, 0, -dlat, lats[0] + dlat / 2)
    path = _write_raw(
        tmp_path / "geo.tif", z, crs=CRS.from_user_input("IAU_2015:30100"), transform=t
    )
    dem = terrain.read_dem(path)
    s = slope_deg(dem.elevation, dem.res_m)
    interior = s[5:-5, 5:-5]
    interior = interior[np.isfinite(interior)]
    assert interior.size > 1000
    assert np.median(interior) == pytest.approx(true_slope, abs=0.1)
    assert np.percentile(np.abs(interior - true_slope), 95) < 0.1


# ---------------------------------------------------------------- bad input
def test_missing_file(tmp_path):
    with pytest.raises(terrain.DemNotFoundError, match="does not exist"):
        terrain.read_dem(tmp_path / "nope.tif")


def test_unreadable_file(tmp_path):
    (tmp_path / "notes.tif").write_text("this is not a raster")
    with pytest.raises(terrain.UnreadableDemError, match="GDAL cannot read"):
        terrain.read_dem(tmp_path / "notes.tif")


def test_missing_crs_refused_unless_given(tmp_path):
    z = np.zeros((10, 10), np.float32)
    path = _write_raw(tmp_path / "nocrs.tif", z, crs=None, transform=Affine(1, 0, 10, 0, -1, 10))
    with pytest.raises(terrain.MissingCrsError, match="--crs"):
        terrain.read_dem(path)
    dem = terrain.read_dem(path, crs=terrain.local_metric_crs(60.5, -4.6))
    assert dem.shape == (10, 10)


def test_earth_crs_refused(tmp_path):
    path = _write_raw(
        tmp_path / "earth.tif",
        np.zeros((10, 10), np.float32),
        crs=CRS.from_epsg(4326),
        transform=Affine(0.01, 0, 0, 0, -0.01, 60),
    )
    with pytest.raises(terrain.EarthCrsError, match="Earth CRS"):
        terrain.read_dem(path)


def test_other_body_refused(tmp_path):
    mars = CRS.from_proj4("+proj=longlat +R=3396190 +no_defs")
    path = _write_raw(
        tmp_path / "mars.tif",
        np.zeros((10, 10), np.float32),
        crs=mars,
        transform=Affine(0.01, 0, 0, 0, -0.01, 60),
    )
    with pytest.raises(terrain.NotLunarCrsError, match="not the Moon"):
        terrain.read_dem(path)


def test_all_nodata_refused(tmp_path, site_crs):
    z = np.full((10, 10), -9999, np.float32)
    path = _write_raw(
        tmp_path / "empty.tif", z, crs=site_crs, transform=Affine(1, 0, 10, 0, -1, 10), nodata=-9999
    )
    with pytest.raises(terrain.EmptyDemError, match="nodata"):
        terrain.read_dem(path)


def test_window_outside_data(lola_path):
    with pytest.raises(terrain.WindowOutsideError, match="outside the DEM"):
        terrain.read_dem(lola_path, around=(-30.0, 100.0), size_m=1000)


def test_around_needs_size():
    with pytest.raises(terrain.TerrainError, match="together"):
        terrain.read_dem("x.tif", around=(60.5, -4.6))


def test_dem_refuses_non_square_and_geographic_grids(site_crs):
    with pytest.raises(terrain.GridError, match="not square"):
        terrain.Dem(np.zeros((4, 4)), Affine(1, 0, 0, 0, -2, 0), site_crs)
    with pytest.raises(terrain.GridError, match="not a projected metric"):
        terrain.Dem(
            np.zeros((4, 4)), Affine(1, 0, 0, 0, -1, 0), CRS.from_user_input("IAU_2015:30100")
        )


def test_dem_accessors(make_dem):
    dem = make_dem(np.zeros((4, 6)), res_m=2.0)  # centred on 0, 0: left -6, top 4
    assert dem.bounds == (-6.0, -4.0, 6.0, 4.0)
    assert dem.xy(0, 0) == (-5.0, 3.0)
    assert dem.rowcol(-5.0, 3.0) == (0, 0)
    assert dem.rowcol(5.9, -3.9) == (3, 5)
    assert not dem.elevation.flags.writeable


PDS3_LABEL = """PDS_VERSION_ID = "PDS3"
RECORD_TYPE = FIXED_LENGTH
RECORD_BYTES = {rb}
FILE_RECORDS = {rows}
^IMAGE = "T.IMG"
OBJECT = IMAGE
  LINES = {rows}
  LINE_SAMPLES = {cols}
  SAMPLE_TYPE = LSB_INTEGER
  SAMPLE_BITS = 16
  UNIT = METER
  SCALING_FACTOR = 0.5
  OFFSET = 1737400.
END_OBJECT = IMAGE
OBJECT = IMAGE_MAP_PROJECTION
  MAP_PROJECTION_TYPE = "SIMPLE CYLINDRICAL"
  A_AXIS_RADIUS = 1737.4 <KM>
  B_AXIS_RADIUS = 1737.4 <KM>
  C_AXIS_RADIUS = 1737.4 <KM>
  POSITIVE_LONGITUDE_DIRECTION = "EAST"
  CENTER_LATITUDE = 0.0 <DEG>
  CENTER_LONGITUDE = 0.0 <DEG>
  LINE_FIRST_PIXEL = 1
  LINE_LAST_PIXEL = {rows}
  SAMPLE_FIRST_PIXEL = 1
  SAMPLE_LAST_PIXEL = {cols}
  MAP_PROJECTION_ROTATION = 0.0
  MAP_RESOLUTION = 4.0 <PIX/DEG>
  MAP_SCALE = 7.5808 <KM/PIXEL>
  MAXIMUM_LATITUDE = 65.0 <DEG>
  MINIMUM_LATITUDE = 55.0 <DEG>
  LINE_PROJECTION_OFFSET = 260.5 <PIXEL>
  SAMPLE_PROJECTION_OFFSET = -0.5 <PIXEL>
  EASTERNMOST_LONGITUDE = 20.0 <DEG>
  WESTERNMOST_LONGITUDE = 0.0 <DEG>
END_OBJECT = IMAGE_MAP_PROJECTION
END
"""


def test_write_text_is_atomic(tmp_path, monkeypatch):
    from frigoris.terrain import write_text

    path = write_text(tmp_path / "sub" / "a.txt", "one\n")
    assert path.read_text() == "one\n" and oct(path.stat().st_mode & 0o777) == "0o644"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("frigoris.terrain.io._publish", broken)
    with pytest.raises(OSError, match="disk full"):
        write_text(path, "two\n")
    assert path.read_text() == "one\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]  # no temporary left


def test_bands_of_several_types_come_back_in_their_own(tmp_path, make_dem):
    """A GeoTIFF holds one sample type: float bands in the file, byte bands in its companion."""
    dem = make_dem(np.arange(64, dtype=np.float32).reshape(8, 8))
    mask = (np.arange(64).reshape(8, 8) % 3 == 0).astype(np.uint8)
    path = write_geotiff(
        tmp_path / "m.tif",
        {"mask": mask, "elevation": dem.elevation, "bits": mask * 5},
        dem,
        dtype={"mask": "uint8", "bits": "uint8"},
        tags={"who": "test"},
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tif", "m_masks.tif"]  # nothing else
    layers, grid = read_layers(path)
    assert list(layers) == ["mask", "elevation", "bits"]  # the order they were written in
    assert layers["mask"].dtype == np.uint8 and layers["bits"].dtype == np.uint8
    np.testing.assert_array_equal(layers["bits"], mask * 5)
    np.testing.assert_array_equal(layers["elevation"], dem.elevation)
    np.testing.assert_array_equal(grid.elevation, dem.elevation)  # the first float band
    tags = read_tags(path)
    assert tags["who"] == "test" and "frigoris_band_dtypes" in tags
    assert tags["frigoris_masks_file"] == "m_masks.tif"
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.descriptions == ("elevation",) and ds.dtypes == ("float32",)
    with rasterio.open(tmp_path / "m_masks.tif") as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.descriptions == ("mask", "bits") and ds.dtypes == ("uint8", "uint8")
        assert ds.nodata is None and ds.tags()["who"] == "test"
    with pytest.raises(TerrainError, match="not among the layers"):
        write_geotiff(tmp_path / "x.tif", {"a": mask}, dem, dtype={"b": "uint8"})


def test_one_kind_of_band_is_one_file(tmp_path, make_dem):
    dem = make_dem(np.zeros((8, 8)))
    mask = np.eye(8, dtype=np.uint8)
    write_geotiff(tmp_path / "f.tif", {"a": dem.elevation, "b": dem.elevation}, dem)
    write_geotiff(tmp_path / "u.tif", {"a": mask, "b": mask}, dem, dtype="uint8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.tif", "u.tif"]
    assert "frigoris_masks_file" not in read_tags(tmp_path / "f.tif")
    with rasterio.open(tmp_path / "u.tif") as ds:
        assert ds.dtypes == ("uint8", "uint8")


def test_a_missing_or_foreign_companion_is_named(tmp_path, make_dem):
    dem = make_dem(np.zeros((8, 8)))
    mask = np.eye(8, dtype=np.uint8)
    layers = {"z": dem.elevation, "m": mask}
    path = write_geotiff(tmp_path / "h.tif", layers, dem, dtype={"m": "uint8"})
    (tmp_path / "h_masks.tif").unlink()
    with pytest.raises(TerrainError, match=r"'h_masks.tif', which is not beside it"):
        read_layers(path)
    other = make_dem(np.zeros((9, 8)))
    write_geotiff(tmp_path / "o.tif", {"z": other.elevation, "m": np.eye(9, 8, dtype=np.uint8)},
                  other, dtype={"m": "uint8"})  # fmt: skip
    (tmp_path / "o_masks.tif").rename(tmp_path / "h_masks.tif")
    with pytest.raises(TerrainError, match="not on the grid of h.tif"):
        read_layers(path)


def test_a_failed_write_of_two_files_leaves_the_old_pair(tmp_path, make_dem, monkeypatch):
    dem = make_dem(np.zeros((8, 8)))
    old = {"z": dem.elevation, "m": np.eye(8, dtype=np.uint8)}
    path = write_geotiff(tmp_path / "h.tif", old, dem, dtype={"m": "uint8"})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("frigoris.terrain.io._write_cog", broken)
    with pytest.raises(OSError, match="disk full"):
        write_geotiff(path, {"z": dem.elevation + 1, "m": 1 - old["m"]}, dem, dtype={"m": "uint8"})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary left


def test_mask_overviews_keep_whole_bits(tmp_path, make_dem):
    """Overviews pick a cell of a bit field, never an average (2 and 32 would average to 17)."""
    n = 600  # one overview level at blocks of 512
    dem = make_dem(np.zeros((n, n)))
    bits = np.where((np.arange(n)[:, None] + np.arange(n)) % 2 == 0, 2, 32).astype(np.uint8)
    path = write_geotiff(tmp_path / "h.tif", {"z": dem.elevation, "reason": bits}, dem,
                         dtype={"reason": "uint8"})  # fmt: skip
    with rasterio.open(tmp_path / "h_masks.tif") as ds:
        assert ds.overviews(1) == [2]
        small = ds.read(1, out_shape=(n // 2, n // 2))
    assert set(np.unique(small)) <= {2, 32}
    layers, grid = terrain.io.read_layers_decimated(path, max_px=n // 2)
    assert layers["reason"].dtype == np.uint8 and set(np.unique(layers["reason"])) <= {2, 32}
    assert layers["z"].dtype == np.float32 and grid.shape == (n // 2, n // 2)


def test_available_memory_counts_the_page_cache(tmp_path):
    # MemFree leaves out the page cache the kernel gives back on demand: MemAvailable is read.
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 24000000 kB\nMemFree: 200000 kB\nMemAvailable: 11000000 kB\n")
    assert _available_bytes(meminfo) == 11000000 * 1024
    meminfo.write_text("garbage\n")  # no MemAvailable line: the free pages, still a number
    assert _available_bytes(meminfo) > 0


def test_dem_decoded_on_every_core_reads_the_values_gdal_reads_on_one(tmp_path):
    """``read_dem`` opens files with GDAL_NUM_THREADS: the same values as one thread decodes."""
    site = terrain.synthesize(terrain.SynthParams(size_m=600, seed=2))  # 1200^2: many blocks
    path = write_geotiff(tmp_path / "dem.tif", site.dem.elevation, site.dem)
    with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(path) as src:
        one = src.read(1)
    dem = terrain.read_dem(path)
    np.testing.assert_array_equal(dem.elevation, one)
    layers, _ = read_layers(path)
    np.testing.assert_array_equal(layers["elevation"], one)


def test_a_one_file_map_of_an_earlier_version_still_reads(tmp_path, make_dem):
    """Before the byte companion, masks were float32 bands of the one file: still uint8 back."""
    from frigoris.terrain.io import BAND_DTYPES_TAG, _write_cog

    dem = make_dem(np.arange(64, dtype=np.float32).reshape(8, 8))
    mask = np.eye(8, dtype=np.uint8)
    tags = {BAND_DTYPES_TAG: {"elevation": "float32", "mask": "uint8"}}
    path = tmp_path / "old.tif"
    _write_cog(str(path), {"elevation": dem.elevation, "mask": mask}, [np.dtype("float32")] * 2,
               dem, tags)  # fmt: skip
    layers, _ = read_layers(path)
    assert list(layers) == ["elevation", "mask"] and layers["mask"].dtype == np.uint8
    np.testing.assert_array_equal(layers["mask"], mask)
