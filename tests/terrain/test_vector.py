"""GeoPackage output: layers, attribute types, the Moon CRS, styles, reproducible bytes."""

from __future__ import annotations

import hashlib
import math
import sqlite3

import numpy as np
import pyogrio
import pytest
from pyproj import CRS as PCRS

from frigoris.terrain.errors import EarthCrsError, TerrainError
from frigoris.terrain.vector import (
    circle_ring,
    ellipse_ring,
    read_geopackage_layers,
    write_geopackage,
)
from tests.conftest import run_gdal


def _pt(x, y, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": props,
    }


@pytest.fixture
def layers():
    return {
        "stops": [
            _pt(1.0, 2.0, kind="scoop", value=1.5, n=3, ok=True, note=None),
            _pt(3.0, 4.0, kind="start", value=None, n=4, ok=False, note="first"),
        ],
        "zone": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [circle_ring(0, 0, 10.0, 16)]},
                "properties": {"radius_m": 10.0},
            }
        ],
        "legs": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [3, 4]]},
                "properties": {"length_m": 5.0, "tags": ["a", "b"]},
            }
        ],
        "empty": [],
    }


def test_layers_types_and_values_round_trip(tmp_path, site_crs, layers):
    path = write_geopackage(tmp_path / "m.gpkg", layers, site_crs, metadata={"seed": 3})
    assert read_geopackage_layers(path) == {"stops": 2, "zone": 1, "legs": 1}
    meta, _, geom, fields = pyogrio.raw.read(path, layer="stops")
    assert meta["geometry_type"] == "Point"
    assert list(meta["fields"]) == ["kind", "value", "n", "ok", "note"]
    kind, value, n, ok, note = fields
    assert list(kind) == ["scoop", "start"]
    assert value[0] == 1.5 and (value[1] is None or np.isnan(value[1]))  # None -> NULL
    assert list(n) == [3, 4] and n.dtype.kind == "i"
    assert list(ok) == [1, 0]
    import shapely

    pts = shapely.from_wkb(geom)
    assert [(p.x, p.y) for p in pts] == [(1.0, 2.0), (3.0, 4.0)]
    _, _, _, (length, tags) = pyogrio.raw.read(path, layer="legs")
    assert length[0] == 5.0 and tags[0] == '["a", "b"]'
    assert pyogrio.read_info(path, layer="stops")["dataset_metadata"]["seed"] == "3"


def test_layer_crs_is_the_moon_for_gdal_and_ogrinfo(tmp_path, site_crs, layers):
    path = write_geopackage(tmp_path / "m.gpkg", layers, site_crs)
    for name in ("stops", "zone", "legs"):
        crs = PCRS.from_user_input(pyogrio.read_info(path, layer=name)["crs"])
        assert math.isclose(crs.ellipsoid.semi_major_metre, 1_737_400.0)
    text = run_gdal("ogrinfo", "-ro", "-so", str(path), "stops")
    assert "Moon (2015) - Sphere" in text and "Transverse Mercator" in text
    assert "WGS" not in text.split("Layer SRS WKT")[1]


def test_styles_are_stored_as_qgis_defaults(tmp_path, site_crs, layers):
    path = write_geopackage(
        tmp_path / "m.gpkg",
        layers,
        site_crs,
        styles={"stops": "<qgis>stops</qgis>", "nope": "<qgis/>"},
    )
    rows = (
        sqlite3.connect(path)
        .execute("select f_table_name, f_geometry_column, styleQML, useAsDefault from layer_styles")
        .fetchall()
    )
    assert rows == [("stops", "geom", "<qgis>stops</qgis>", 1)]


def test_same_features_same_bytes(tmp_path, site_crs, layers):
    a = write_geopackage(tmp_path / "a.gpkg", layers, site_crs, styles={"stops": "<qgis/>"})
    b = write_geopackage(tmp_path / "b.gpkg", layers, site_crs, styles={"stops": "<qgis/>"})
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_replaces_existing_file_and_leaves_no_temporaries(tmp_path, site_crs, layers):
    path = tmp_path / "m.gpkg"
    write_geopackage(path, layers, site_crs)
    write_geopackage(path, {"stops": layers["stops"][:1]}, site_crs)
    assert read_geopackage_layers(path) == {"stops": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gpkg"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            {
                "mix": [
                    _pt(0, 0),
                    {
                        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                        "properties": {},
                    },
                ]
            },
            "mixes geometry types",
        ),
        ({"nogeom": [{"properties": {"a": 1}}]}, "needs a GeoJSON geometry"),
        ({"empty": []}, "no layer has features"),
    ],
)
def test_bad_layers_raise_and_write_nothing(tmp_path, site_crs, bad, message):
    with pytest.raises(TerrainError, match=message):
        write_geopackage(tmp_path / "m.gpkg", bad, site_crs)
    assert list(tmp_path.iterdir()) == []


def test_earth_crs_is_refused(tmp_path, layers):
    with pytest.raises(EarthCrsError):
        write_geopackage(tmp_path / "m.gpkg", layers, "EPSG:4326")


def test_rings_are_closed_and_sized():
    ring = np.array(circle_ring(5.0, -2.0, 3.0, 24))
    assert ring.shape == (25, 2) and np.array_equal(ring[0], ring[-1])
    assert np.allclose(np.hypot(ring[:, 0] - 5.0, ring[:, 1] + 2.0), 3.0, atol=1e-3)
    ell = np.array(ellipse_ring(0.0, 0.0, 10.0, 4.0, 90.0, 8))
    # major axis along azimuth 90 (east): x spans +-10, y spans +-4
    assert np.isclose(ell[:, 0].max(), 10.0) and np.isclose(np.abs(ell[:, 1]).max(), 4.0)
