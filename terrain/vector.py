"""Vector output for GIS: every layer of a mission in one GeoPackage, with the Moon CRS.

GeoJSON (:func:`terrain.io.write_geojson`) writes one layer per file. A GeoPackage holds all of
them, so QGIS opens the whole plan in one go: :func:`write_geopackage` takes GeoJSON-like
features per layer, writes them with GDAL's GPKG driver (through ``pyogrio``), stores the Moon
CRS as WKT in ``gpkg_spatial_ref_sys`` and, optionally, a QGIS style per layer in the
``layer_styles`` table that QGIS applies when the layer is loaded.

The file is written to a temporary name in the destination folder and moved into place.
The GeoPackage's "last change" timestamps are pinned (``OGR_CURRENT_DATE``), so the same
features give the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from rasterio.crs import CRS

from .crs import check_lunar, to_rasterio
from .errors import TerrainError

FIXED_DATE = "2025-06-05T19:17:00Z"
"""Timestamp written into the GeoPackage's metadata tables (keeps output bytes reproducible)."""

_GEOMETRY_TYPES = {
    "Point": "Point",
    "LineString": "LineString",
    "Polygon": "Polygon",
    "MultiPoint": "MultiPoint",
    "MultiLineString": "MultiLineString",
    "MultiPolygon": "MultiPolygon",
}


def circle_ring(x: float, y: float, radius_m: float, n: int = 32) -> list[list[float]]:
    """Return a closed ring of ``n`` vertices around a circle, as GeoJSON coordinates."""
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    ring = np.c_[x + radius_m * np.sin(t), y + radius_m * np.cos(t)]
    ring = np.vstack([ring, ring[:1]])
    return ring.round(3).tolist()


def ellipse_ring(
    x: float, y: float, a_m: float, b_m: float, azimuth_deg: float, n: int = 72
) -> list[list[float]]:
    """Return a closed ellipse ring: semi-axis ``a_m`` along ``azimuth_deg``, ``b_m`` across."""
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    az = math.radians(azimuth_deg)
    major = np.array([math.sin(az), math.cos(az)])
    minor = np.array([math.cos(az), -math.sin(az)])
    pts = (a_m * np.cos(t))[:, None] * major + (b_m * np.sin(t))[:, None] * minor
    ring = np.c_[x + pts[:, 0], y + pts[:, 1]]
    ring = np.vstack([ring, ring[:1]])
    return ring.round(3).tolist()


def _column(values: list[Any], name: str, layer: str) -> tuple[np.ndarray, np.ndarray | None]:
    """One attribute column as a typed array (int64, float64, bool as int, or str) and a mask."""
    present = [v for v in values if v is not None]
    mask = np.array([v is None for v in values], dtype=bool)
    if present and all(isinstance(v, bool | np.bool_) for v in present):
        arr = np.array([int(bool(v)) if v is not None else 0 for v in values], dtype=np.int32)
    elif present and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present
    ):
        arr = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
    elif present and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in present
    ):
        arr = np.array([float(v) if v is not None else np.nan for v in values], dtype=np.float64)
        mask |= ~np.isfinite(arr)
        arr = np.where(mask, 0.0, arr)
    else:
        arr = np.array(
            ["" if v is None else (v if isinstance(v, str) else _text(v)) for v in values],
            dtype=object,
        )
    return arr, (mask if mask.any() else None)


def _text(v: Any) -> str:
    if isinstance(v, list | tuple | dict):
        return json.dumps(v, default=str)
    return str(v)


def write_geopackage(
    path: str | os.PathLike,
    layers: Mapping[str, Sequence[Mapping[str, Any]]],
    crs: CRS | str,
    *,
    styles: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> pathlib.Path:
    """Write GeoJSON-like features as named layers of one GeoPackage, in a Moon CRS.

    Parameters
    ----------
    path : path-like
        Destination ``.gpkg``; replaced when it exists.
    layers : mapping of layer name to list of features
        Each feature is a GeoJSON-like mapping with ``geometry`` (coordinates in ``crs``) and
        ``properties``. One geometry type per layer. Property types become column types (int,
        real, text; booleans as 0/1 integers; lists and dicts as JSON text). An empty layer is
        skipped.
    crs : CRS or str
        Map CRS of every coordinate; must be a Moon CRS.
    styles : mapping of layer name to QML text, optional
        QGIS styles stored in the ``layer_styles`` table as each layer's default.
    metadata : mapping, optional
        Key/value pairs stored as dataset metadata (provenance).

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    TerrainError
        A layer mixes geometry types, a feature has no geometry, or no layer has features.
    """
    import pyogrio
    import shapely

    rcrs = to_rasterio(crs)
    check_lunar(rcrs)
    dest = pathlib.Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp.gpkg", dir=dest.parent)
    os.close(fd)
    pathlib.Path(tmp).unlink()
    try:
        previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
        try:
            for name, features in layers.items():
                feats = list(features)
                if not feats:
                    continue
                kinds = {f.get("geometry", {}).get("type") for f in feats}
                if None in kinds or not kinds <= set(_GEOMETRY_TYPES):
                    raise TerrainError(f"layer {name!r}: every feature needs a GeoJSON geometry")
                if len(kinds) > 1:
                    raise TerrainError(
                        f"layer {name!r} mixes geometry types {sorted(kinds)}; split it"
                    )
                geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
                wkb = np.array(shapely.to_wkb(geoms), dtype=object)
                names: list[str] = []
                for f in feats:
                    for k in f.get("properties") or {}:
                        if k not in names:
                            names.append(k)
                cols, masks = [], []
                for k in names:
                    arr, mask = _column(
                        [(f.get("properties") or {}).get(k) for f in feats], k, name
                    )
                    cols.append(arr)
                    masks.append(mask)
                pyogrio.raw.write(
                    tmp,
                    wkb,
                    cols,
                    np.array(names, dtype=object),
                    field_mask=masks if any(m is not None for m in masks) else None,
                    layer=name,
                    driver="GPKG",
                    geometry_type=_GEOMETRY_TYPES[kinds.pop()],
                    crs=rcrs.to_wkt(),
                    append=bool(written),
                    # GeoPackage 1.2: read by every GDAL >= 2.2 and QGIS 3 (1.4 warns on older)
                    dataset_options=None if written else {"VERSION": "1.2"},
                    dataset_metadata=(
                        {k: _text(v) if not isinstance(v, str) else v for k, v in metadata.items()}
                        if metadata and not written
                        else None
                    ),
                )
                written.append(name)
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
        if not written:
            raise TerrainError("no layer has features; nothing to write to the GeoPackage")
        if styles:
            _write_styles(tmp, {k: v for k, v in styles.items() if k in written})
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _write_styles(path: str, styles: Mapping[str, str]) -> None:
    """QGIS reads a layer's default style from the GeoPackage table ``layer_styles``."""
    con = sqlite3.connect(path)
    try:
        con.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
                f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
                useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME DEFAULT '2025-06-05T19:17:00Z')"""
        )
        for table, qml in styles.items():
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '', ?)",
                (
                    table,
                    f"frigoris {table}",
                    qml,
                    f"frigoris default style for {table}",
                    FIXED_DATE,
                ),
            )
        con.commit()
    finally:
        con.close()


def read_geopackage_layers(path: str | os.PathLike) -> dict[str, int]:
    """Return the data layers of a GeoPackage and their feature counts (styles left out)."""
    import pyogrio

    out = {}
    for name, _ in pyogrio.list_layers(path):
        if str(name) == "layer_styles":  # QGIS styles, not data
            continue
        out[str(name)] = int(pyogrio.read_info(path, layer=name)["features"])
    return out


def features_bounds(features: Iterable[Mapping[str, Any]]) -> tuple[float, float, float, float]:
    """Bounding box (left, bottom, right, top) of GeoJSON-like features."""
    import shapely

    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    b = shapely.total_bounds(geoms)
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


__all__ = [
    "circle_ring",
    "ellipse_ring",
    "features_bounds",
    "read_geopackage_layers",
    "write_geopackage",
]
