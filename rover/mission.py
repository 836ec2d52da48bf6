"""Mission files and the mission job: one TOML file describes a mission, one folder holds it all.

A mission file names the site (a DEM, or the parameters of a synthetic site), the touchdown
time, the lander and rover (built-in names or spec files, with overrides), the touchdown Monte
Carlo, the planner's limits, user targets and the seed. :func:`load_mission` reads and checks it
(one-line :class:`~rover.errors.SpecError` naming the key and the fix); :func:`run_mission` runs
the whole chain on it and writes every output into one folder:

site -> touchdown Monte Carlo (every scenario) -> the followed touchdown -> hazard map at
deployment -> deployment handoff -> traverse plan -> GeoPackage of every vector layer ->
``report.html`` -> ``manifest.json`` (inputs and outputs with checksums, parameters, version).

A step that is impossible stops the chain with its reason, as a result: a lander that crashed
is not deployed, a rover never deployed gets no plan, and a DEM too coarse to resolve the
lander's legs (a regional LOLA grid) gives the site and its hazard layers, then stops.

Layout of a mission file (every table but [mission] and [site] is optional)::

    [mission]
    name = "HAKUTO-R Mission 2"
    seed = 0
    touchdown_utc = 2025-06-05T19:17:00Z
    days = 10

    [site]
    lat = 60.5
    lon = -4.6
    # dem = "my_dem.tif"        # relative to the mission file; else a synthetic site
    # crs = "IAU_2015:30100"    # only for a DEM without a CRS
    # window_m = 1024           # read only this square around (lat, lon)
    # rock_abundance = 0.01     # Golombek k for a DEM (a number, or a raster on the DEM's grid)

    [site.synthetic]            # SynthParams fields, without center and seed
    size_m = 1024

    [lander]
    spec = "resilience"         # built-in name or a TOML file with a [lander] table
    checkout_h = 24             # any LanderSpec field overrides the spec

    [rover]
    spec = "tenacious"

    [touchdown]
    runs = 200
    scenarios = ["nominal", "late-altimeter"]
    follow = "nominal"          # the chain continues from this scenario's run number `run`
    run = 0
    [touchdown.dispersion]      # Dispersion fields
    sigma_major_m = 50

    [planner]
    time_limit_s = 10
    [planner.stops]             # StopRules fields
    scoop_value = 10

    [[targets]]
    name = "bright ejecta"
    lat = 60.501
    lon = -4.599
    priority = 2
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import pathlib
import platform
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata, resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import numpy as np

from frigoris.planners.stops import StopRules
from frigoris.terrain import Dem, read_dem, read_layers, write_geotiff, write_text
from frigoris.terrain.crs import lunar_to_crs
from frigoris.terrain.errors import TerrainError
from frigoris.terrain.hazard import HazardMap, hazard_map
from frigoris.terrain.synth import RESILIENCE_TARGET, SyntheticSite, SynthParams, synthesize

from . import figures
from .deploy import Handoff
from .errors import SpecError, TouchdownError
from .pipeline import (
    JobResult,
    hazard_summary,
    resolve_sun,
    write_hazard,
    write_site,
)
from .planning import PlanResult, plan_summary
from .progress import ProgressCallback
from .specs import BUILTIN, LanderSpec, RoverSpec, hazard_limits, lander_site
from .touchdown import SCENARIOS, Dispersion, TouchdownResult, TouchdownRun, check_grid

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

MANIFEST_VERSION = 1
BUILTIN_MISSIONS = {"hakuto-r-m2": "mission_hakuto_r_m2.toml"}
"""Mission files shipped with the package (``frigoris demo`` runs the first one)."""

OUTPUT_DESCRIPTIONS: dict[str, str] = {
    "dem.tif": "elevation (m above the 1,737,400 m Moon sphere) on the site's metric grid",
    "rock_abundance.tif": "per-cell fractional rock area k of rocks too small to draw (Golombek)",
    "craters_truth.geojson": "ground-truth craters of the synthetic site (centre, size, depth)",
    "rocks_truth.geojson": "ground-truth rocks drawn into the synthetic DEM",
    "hillshade.png": "map of the site: hillshade and elevation",
    "touchdown_safety.tif": "touchdown safety: share of yaws at which the lander stands per cell",
    "touchdowns.geojson": "every simulated touchdown of every descent scenario, with its outcome",
    "touchdown.png": "map of the touchdown Monte Carlo: outcomes, dispersion ellipses, safety",
    "hazard.tif": "hazard layers (slope, roughness, step, rocks, shadow, link, cost, keep-out)",
    "craters.geojson": "craters detected in the DEM",
    "rocks.geojson": "resolved rocks detected in the DEM",
    "hazard.png": "map of the hazard layers",
    "context.png": "regional map: slope, cast shadow at touchdown time and the aim point",
    "handoff.json": "deployment handoff: side, rover pose, battery, egress, or why none",
    "deploy.png": "map of the deployment: sides, set-down points, egress, plume zone",
    "traverse.geojson": "the traverse plan: stops (points) and legs (lines) with times",
    "timeline.csv": "the plan's timeline: time, position, activity, battery, sun, link",
    "plan.png": "map of the traverse plan",
    "timeline.png": "battery, sun elevation, solar power and distance driven over the plan",
    "plan.txt": "the plan stop by stop, as text",
    "mission.gpkg": "every vector layer in one GeoPackage (QGIS styles included)",
    "report.html": "the mission report for people (links the PNGs in this folder)",
}
"""Every file a mission may write, and what it is (the manifest repeats it per output)."""


def _noop(fraction: float, stage: str = "") -> None:
    return None


def frigoris_version() -> str:
    """Installed version of the frigoris package."""
    try:
        return metadata.version("frigoris")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# value types


@dataclass(frozen=True)
class Site:
    """Where the mission is: the aim point and its terrain (a DEM file or a synthetic site)."""

    lat_deg: float
    lon_deg: float
    dem: pathlib.Path | None = None
    dem_as_written: str | None = None
    crs: str | None = None
    window_m: float | None = None
    rock_abundance: float | pathlib.Path = 0.01
    synthetic: SynthParams | None = None

    @property
    def is_synthetic(self) -> bool:
        """True when the terrain is synthesised."""
        return self.dem is None


@dataclass(frozen=True)
class TouchdownPlan:
    """The touchdown Monte Carlo and which run the chain follows."""

    runs: int = 200
    scenarios: tuple[str, ...] = SCENARIOS
    follow: str = "nominal"
    run: int = 0
    dispersion: Dispersion = field(default_factory=Dispersion)
    safety_extent: str = "ellipse"


@dataclass(frozen=True)
class PlannerLimits:
    """Solver time cap and stop rules (values and dwell times) of the traverse planner."""

    time_limit_s: float = 10.0
    stops: StopRules = field(default_factory=StopRules)


@dataclass(frozen=True)
class Target:
    """A user target: a place worth a stop, with a priority (>= 1 multiplies its value)."""

    name: str
    lat_deg: float
    lon_deg: float
    priority: float = 1.0


@dataclass(frozen=True)
class InputFile:
    """An input file of the mission, for the manifest."""

    role: str
    path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Mission:
    """A whole mission, as read from a mission file (see the module notes for the layout)."""

    name: str
    seed: int
    touchdown_utc: datetime
    days: float
    site: Site
    lander: LanderSpec
    rover: RoverSpec
    touchdown: TouchdownPlan = field(default_factory=TouchdownPlan)
    planner: PlannerLimits = field(default_factory=PlannerLimits)
    targets: tuple[Target, ...] = ()
    source: str = "<memory>"
    inputs: tuple[InputFile, ...] = ()
    overrides: tuple[str, ...] = ()

    @property
    def deploy_time(self) -> datetime:
        """When the rover is lowered: touchdown plus the lander's checkout."""
        return self.touchdown_utc + timedelta(hours=self.lander.checkout_h)

    def parameters(self) -> dict[str, Any]:
        """Every resolved parameter as plain JSON values (the manifest records them)."""
        s = self.site
        site: dict[str, Any] = {"lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
        if s.is_synthetic:
            site["synthetic"] = _plain(dataclasses.asdict(s.synthetic))
        else:
            site.update(
                dem=s.dem_as_written,
                crs=s.crs,
                window_m=s.window_m,
                rock_abundance=s.rock_abundance
                if isinstance(s.rock_abundance, float)
                else s.rock_abundance.name,
            )
        td = self.touchdown
        return {
            "name": self.name,
            "seed": self.seed,
            "touchdown_utc": _iso(self.touchdown_utc),
            "deploy_utc": _iso(self.deploy_time),
            "days": self.days,
            "site": site,
            "lander": _spec_dict(self.lander),
            "rover": _spec_dict(self.rover),
            "touchdown": {
                "runs": td.runs,
                "scenarios": list(td.scenarios),
                "follow": td.follow,
                "run": td.run,
                "safety_extent": td.safety_extent,
                "dispersion": _plain(dataclasses.asdict(td.dispersion)),
            },
            "planner": {
                "time_limit_s": self.planner.time_limit_s,
                "stops": _plain(dataclasses.asdict(self.planner.stops)),
            },
            "targets": [_plain(dataclasses.asdict(t)) for t in self.targets],
            "overrides": list(self.overrides),
        }


def _spec_dict(spec) -> dict[str, Any]:
    d = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "sources"}
    return _plain(d)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pathlib.Path):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# reading a mission file

_TABLES = ("mission", "site", "lander", "rover", "touchdown", "planner", "targets")


class _Reader:
    """Typed access to a parsed TOML document with one-line errors naming file and key."""

    def __init__(self, origin: str):
        self.origin = origin

    def fail(self, key: str, problem: str, fix: str) -> SpecError:
        return SpecError(f"{self.origin}: {key} {problem}; {fix}")

    def table(self, doc: dict, name: str, *, required: bool = False) -> dict:
        if name not in doc:
            if required:
                raise SpecError(f"{self.origin}: no [{name}] table; add one (see examples/*.toml)")
            return {}
        value = doc[name]
        if not isinstance(value, dict):
            raise self.fail(f"[{name}]", "is not a table", f"write it as [{name}] with keys below")
        return value

    def unknown(self, table: dict, where: str, known: set[str]) -> None:
        extra = sorted(set(table) - known)
        if extra:
            raise self.fail(
                f"[{where}] {extra[0]!r}", "is not a known key", f"use one of {sorted(known)}"
            )

    def number(
        self,
        table: dict,
        key: str,
        where: str,
        default: Any = None,
        *,
        lo: float | None = None,
        hi: float | None = None,
        positive: bool = False,
        integer: bool = False,
        unit: str = "",
    ) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(f"[{where}] {key}", "is missing", f"add {key} = <number{unit}>")
            return default
        v = table[key]
        ok_type = isinstance(v, int) if integer else isinstance(v, int | float)
        if isinstance(v, bool) or not ok_type or not math.isfinite(v):
            kind = "a whole number" if integer else "a number"
            raise self.fail(
                f"[{where}] {key} = {v!r}", f"is not {kind}", f"write {key} = <{kind[2:]}{unit}>"
            )
        if positive and not v > 0:
            raise self.fail(f"[{where}] {key} = {v!r}", "must be > 0", "give a positive value")
        if lo is not None and v < lo or hi is not None and v > hi:
            span = (
                f"[{lo:g}, {hi:g}]"
                if lo is not None and hi is not None
                else f">= {lo:g}"
                if lo is not None
                else f"<= {hi:g}"
            )
            raise self.fail(
                f"[{where}] {key} = {v!r}",
                f"is outside {span}",
                f"give a value {'in ' if '[' in span else ''}{span}{unit}",
            )
        return int(v) if integer else float(v)

    def string(self, table: dict, key: str, where: str, default: Any = None) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(f"[{where}] {key}", "is missing", f'add {key} = "..."')
            return default
        v = table[key]
        if not isinstance(v, str) or not v.strip():
            raise self.fail(
                f"[{where}] {key} = {v!r}", "is not a non-empty string", f'write {key} = "..."'
            )
        return v


def _wrapped(origin: str, where: str, err: Exception) -> SpecError:
    """Turn a library's validation error into a mission-file error, with a fix if it has none."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    fix = "" if ";" in text else f"; fix it under {where.split(' ')[0]} in the mission file"
    return SpecError(f"{origin}: {where}: {text}{fix}")


def _set_dotted(doc: dict, assignment: str) -> None:
    """Apply one ``table.key=value`` override (value in TOML syntax, bare words as strings)."""
    if "=" not in assignment:
        raise SpecError(
            f"override {assignment!r} is not KEY=VALUE; write e.g. site.synthetic.size_m=256"
        )
    key, text = (part.strip() for part in assignment.split("=", 1))
    parts = key.split(".")
    if not key or any(not p for p in parts) or parts[0] not in _TABLES or parts[0] == "targets":
        raise SpecError(
            f"override key {key!r} must start with one of "
            f"{[t for t in _TABLES if t != 'targets']}, e.g. touchdown.runs=50"
        )
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    node = doc
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise SpecError(f"override {key!r}: {p!r} is not a table in the mission file")
        node = nxt
    node[parts[-1]] = value


def _file_input(role: str, path: pathlib.Path, as_written: str) -> InputFile:
    return InputFile(role, as_written, sha256_file(path), path.stat().st_size)


def _spec(
    kind: str,
    table: dict,
    where: str,
    base: pathlib.Path,
    r: _Reader,
    cls,
    default: str,
    inputs: list[InputFile],
):
    """Load a lander or rover spec (built-in name or file), then apply the file's overrides."""
    name = table.get("spec", default)
    if not isinstance(name, str) or not name.strip():
        raise r.fail(
            f"[{where}] spec = {name!r}",
            "is not a name or a path",
            f'write spec = "{default}" or spec = "my_{kind}.toml"',
        )
    if name.lower() in BUILTIN:
        source: str | pathlib.Path = name.lower()
        text = resources.files("frigoris.rover.data").joinpath(BUILTIN[name.lower()]).read_bytes()
        inputs.append(
            InputFile(
                f"{kind} spec",
                f"built-in {name.lower()}",
                hashlib.sha256(text).hexdigest(),
                len(text),
            )
        )
    else:
        path = (base / name).resolve()
        if not path.is_file():
            raise r.fail(
                f"[{where}] spec = {name!r}",
                f"is neither a built-in spec {sorted(BUILTIN)} nor an existing file",
                "fix the path (relative to the mission file)",
            )
        source = path
        inputs.append(_file_input(f"{kind} spec", path, name))
    spec = cls.load(source)
    overrides = {k: v for k, v in table.items() if k != "spec"}
    if not overrides:
        return spec
    names = {f.name for f in dataclasses.fields(cls)} - {"sources"}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise r.fail(
            f"[{where}] {unknown[0]!r}",
            f"is not a {cls.__name__} field",
            f"use one of {sorted(names)}",
        )
    sources = dict(spec.sources)
    for k in overrides:
        sources[k] = f"mission file: {r.origin}"
    try:
        new = dataclasses.replace(spec, **overrides, sources=sources)
        new.validate()
    except (TypeError, SpecError) as err:
        raise _wrapped(r.origin, f"[{where}] overrides", err) from err
    return new


def load_mission(
    path: str | os.PathLike, *, overrides: list[str] | tuple[str, ...] = ()
) -> Mission:
    """Read and check a mission file.

    Parameters
    ----------
    path : path-like
        The mission TOML file. Relative paths inside it (DEM, spec files, rock abundance) are
        taken relative to its folder. A built-in name (``"hakuto-r-m2"``) reads the mission file
        shipped with frigoris.
    overrides : sequence of str
        ``"table.key=value"`` assignments applied to the file before checking (value in TOML
        syntax), e.g. ``["site.synthetic.size_m=256", "touchdown.runs=50"]``.

    Returns
    -------
    Mission

    Raises
    ------
    SpecError
        The file is missing, not TOML, or a value is missing, mistyped or out of range; the
        message names the key and what to write instead.
    """
    name = str(path)
    if name.lower() in BUILTIN_MISSIONS:
        res = resources.files("frigoris.rover.data").joinpath(BUILTIN_MISSIONS[name.lower()])
        raw = res.read_bytes()
        origin, base = f"built-in mission {name.lower()}", pathlib.Path.cwd()
    else:
        p = pathlib.Path(path)
        if not p.is_file():
            raise SpecError(
                f"mission file {name!r} does not exist; give the path of a TOML "
                f"mission file or one of {sorted(BUILTIN_MISSIONS)}"
            )
        raw = p.read_bytes()
        origin, base = str(p), p.resolve().parent
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpecError(f"{origin} is not valid TOML ({err}); fix the file") from err
    for o in overrides:
        _set_dotted(doc, o)
    mission_input = InputFile(
        "mission file",
        pathlib.Path(name).name if origin == name else origin,
        hashlib.sha256(raw).hexdigest(),
        len(raw),
    )
    return _parse(doc, origin, base, mission_input, tuple(overrides))


def _parse(
    doc: dict, origin: str, base: pathlib.Path, mission_input: InputFile, overrides: tuple[str, ...]
) -> Mission:
    r = _Reader(origin)
    extra = sorted(set(doc) - set(_TABLES))
    if extra:
        raise r.fail(f"[{extra[0]}]", "is not a mission table", f"use one of {list(_TABLES)}")
    inputs: list[InputFile] = [mission_input]

    m = r.table(doc, "mission", required=True)
    r.unknown(m, "mission", {"name", "seed", "touchdown_utc", "days", "description"})
    name = r.string(m, "name", "mission", ...)
    seed = r.number(m, "seed", "mission", 0, lo=0, integer=True)
    when = m.get("touchdown_utc")
    if when is None:
        raise r.fail(
            "[mission] touchdown_utc", "is missing", "add touchdown_utc = 2025-06-05T19:17:00Z"
        )
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError as err:
            raise r.fail(
                f"[mission] touchdown_utc = {when!r}",
                "is not a date and time",
                "write it as 2025-06-05T19:17:00Z",
            ) from err
    if not isinstance(when, datetime):
        raise r.fail(
            f"[mission] touchdown_utc = {when!r}",
            "is not a date and time",
            "write it as 2025-06-05T19:17:00Z",
        )
    if when.tzinfo is None or when.utcoffset() is None:
        raise r.fail(
            f"[mission] touchdown_utc = {when.isoformat()}",
            "has no time zone",
            "end it with Z (UTC), e.g. 2025-06-05T19:17:00Z",
        )
    when = when.astimezone(timezone.utc)
    days = r.number(m, "days", "mission", 10.0, positive=True, hi=30.0, unit=" days")

    # site
    s = r.table(doc, "site", required=True)
    r.unknown(
        s, "site", {"lat", "lon", "dem", "crs", "window_m", "rock_abundance", "synthetic", "name"}
    )
    lat = r.number(s, "lat", "site", ..., lo=-90.0, hi=90.0, unit=" degrees north")
    lon = r.number(s, "lon", "site", ..., lo=-180.0, hi=360.0, unit=" degrees east")
    lon = lon - 360.0 if lon > 180.0 else lon
    dem_name = r.string(s, "dem", "site", None)
    synth_table = s.get("synthetic")
    if dem_name is not None and synth_table is not None:
        raise r.fail(
            "[site] dem and [site.synthetic]",
            "are both given",
            "keep one: a DEM file or the parameters of a synthetic site",
        )
    if dem_name is None:
        for k in ("crs", "window_m", "rock_abundance"):
            if k in s:
                raise r.fail(
                    f"[site] {k}",
                    "applies to a DEM file only",
                    "move it to [site.synthetic] or give [site] dem",
                )
        st = synth_table if synth_table is not None else {}
        if not isinstance(st, dict):
            raise r.fail("[site.synthetic]", "is not a table", "write it as [site.synthetic]")
        known = {f.name for f in dataclasses.fields(SynthParams)} - {"center", "seed"}
        for k in ("center", "seed"):
            if k in st:
                raise r.fail(
                    f"[site.synthetic] {k}",
                    "is set by the mission",
                    "use [site] lat/lon and [mission] seed",
                )
        r.unknown(st, "site.synthetic", known)
        try:
            params = SynthParams(**st, center=(lat, lon), seed=seed)
            params.validate()
        except (TypeError, TerrainError) as err:
            raise _wrapped(origin, "[site.synthetic]", err) from err
        site = Site(lat, lon, synthetic=params)
    else:
        dem_path = (base / dem_name).resolve()
        if not dem_path.is_file():
            raise r.fail(
                f"[site] dem = {dem_name!r}",
                "does not exist",
                "give the DEM's path relative to the mission file",
            )
        inputs.append(_file_input("DEM", dem_path, dem_name))
        crs = r.string(s, "crs", "site", None)
        window = r.number(s, "window_m", "site", None, positive=True, unit=" m")
        k_value = s.get("rock_abundance", 0.01)
        if isinstance(k_value, str):
            k_path = (base / k_value).resolve()
            if not k_path.is_file():
                raise r.fail(
                    f"[site] rock_abundance = {k_value!r}",
                    "does not exist",
                    "give a number (Golombek k) or a raster on the DEM's grid",
                )
            inputs.append(_file_input("rock abundance", k_path, k_value))
            k: float | pathlib.Path = k_path
        else:
            k = r.number(s, "rock_abundance", "site", 0.01, lo=0.0, hi=0.4)
        site = Site(
            lat,
            lon,
            dem=dem_path,
            dem_as_written=dem_name,
            crs=crs,
            window_m=window,
            rock_abundance=k,
        )

    lander = _spec(
        "lander", r.table(doc, "lander"), "lander", base, r, LanderSpec, "resilience", inputs
    )
    rover = _spec("rover", r.table(doc, "rover"), "rover", base, r, RoverSpec, "tenacious", inputs)

    # touchdown
    t = r.table(doc, "touchdown")
    r.unknown(t, "touchdown", {"runs", "scenarios", "follow", "run", "dispersion", "safety_extent"})
    runs = r.number(t, "runs", "touchdown", 200, lo=1, hi=100000, integer=True)
    scen = t.get("scenarios", list(SCENARIOS))
    if (
        not isinstance(scen, list)
        or not scen
        or any(x not in SCENARIOS for x in scen)
        or len(set(scen)) != len(scen)
    ):
        raise r.fail(
            f"[touchdown] scenarios = {scen!r}",
            "is not a list of descent scenarios",
            f"write a non-empty list drawn from {list(SCENARIOS)}",
        )
    follow = r.string(t, "follow", "touchdown", scen[0])
    if follow not in scen:
        raise r.fail(
            f"[touchdown] follow = {follow!r}",
            "is not one of the scenarios run",
            f"choose one of {scen}",
        )
    run = r.number(t, "run", "touchdown", 0, lo=0, hi=runs - 1, integer=True)
    extent = r.string(t, "safety_extent", "touchdown", "ellipse")
    if extent not in ("ellipse", "full"):
        raise r.fail(
            f"[touchdown] safety_extent = {extent!r}",
            "is not a known extent",
            'write "ellipse" (3-sigma box) or "full" (the whole DEM)',
        )
    dt = t.get("dispersion", {})
    if not isinstance(dt, dict):
        raise r.fail("[touchdown.dispersion]", "is not a table", "write [touchdown.dispersion]")
    r.unknown(dt, "touchdown.dispersion", {f.name for f in dataclasses.fields(Dispersion)})
    try:
        dispersion = Dispersion(**dt)
        dispersion.validate()
    except (TypeError, TouchdownError) as err:
        raise _wrapped(origin, "[touchdown.dispersion]", err) from err
    touchdown = TouchdownPlan(runs, tuple(scen), follow, run, dispersion, extent)

    # planner
    pl = r.table(doc, "planner")
    r.unknown(pl, "planner", {"time_limit_s", "stops"})
    limit = r.number(pl, "time_limit_s", "planner", 10.0, positive=True, hi=3600.0, unit=" s")
    rules_table = pl.get("stops", {})
    if not isinstance(rules_table, dict):
        raise r.fail("[planner.stops]", "is not a table", "write [planner.stops]")
    known = {f.name for f in dataclasses.fields(StopRules)} - {"plume_radius_m"}
    if "plume_radius_m" in rules_table:
        raise r.fail(
            "[planner.stops] plume_radius_m",
            "is the lander's",
            "set [lander] plume_radius_m instead",
        )
    r.unknown(rules_table, "planner.stops", known)
    for k, v in rules_table.items():
        if isinstance(v, bool) or not isinstance(v, int | float | list):
            raise r.fail(f"[planner.stops] {k} = {v!r}", "is not a number", f"write {k} = <number>")
    rules_table = {k: tuple(v) if isinstance(v, list) else v for k, v in rules_table.items()}
    planner = PlannerLimits(limit, StopRules(**rules_table))

    # targets
    tg = doc.get("targets", [])
    if not isinstance(tg, list):
        raise r.fail("targets", "is not an array of tables", "write each target as [[targets]]")
    targets = []
    for i, item in enumerate(tg, start=1):
        where = f"targets #{i}"
        if not isinstance(item, dict):
            raise r.fail(f"[[targets]] #{i}", "is not a table", "write name, lat, lon, priority")
        r.unknown(item, where, {"name", "lat", "lon", "priority"})
        targets.append(
            Target(
                r.string(item, "name", where, f"target {i}"),
                r.number(item, "lat", where, ..., lo=-90.0, hi=90.0),
                r.number(item, "lon", where, ..., lo=-180.0, hi=180.0),
                r.number(item, "priority", where, 1.0, lo=1.0, hi=100.0),
            )
        )
    return Mission(
        name,
        seed,
        when,
        days,
        site,
        lander,
        rover,
        touchdown,
        planner,
        tuple(targets),
        origin,
        tuple(inputs),
        overrides,
    )


def builtin_mission(
    name: str = "hakuto-r-m2", *, overrides: list[str] | tuple[str, ...] = ()
) -> Mission:
    """Load a mission file shipped with frigoris (``"hakuto-r-m2"``: Resilience, Tenacious)."""
    if name.lower() not in BUILTIN_MISSIONS:
        raise SpecError(f"no built-in mission {name!r}; choose one of {sorted(BUILTIN_MISSIONS)}")
    return load_mission(name, overrides=overrides)


# --------------------------------------------------------------------------------------------
# the mission job


@dataclass(frozen=True)
class Step:
    """One step of the chain: ``done``, ``stopped`` (the chain ends here, why) or ``skipped``."""

    name: str
    status: str
    detail: str


@dataclass(frozen=True, eq=False)
class MissionResult:
    """Everything a mission run produced: files, objects for the report, and where it stopped."""

    mission: Mission
    out_dir: pathlib.Path
    outputs: dict[str, pathlib.Path]
    summary: dict[str, Any]
    steps: tuple[Step, ...]
    dem: Dem
    label: str
    site: SyntheticSite | None = None
    touchdowns: tuple[TouchdownResult, ...] = ()
    touchdown: TouchdownRun | None = None
    target_xy: tuple[float, float] | None = None
    hazard: HazardMap | None = None
    handoff: Handoff | None = None
    plan: PlanResult | None = None
    stopped: str | None = None
    targets_xy: tuple = ()

    def job_result(self) -> JobResult:
        """Return the generic job result the CLI prints."""
        return JobResult(self.out_dir, self.outputs, self.summary)


def provenance(mission: Mission) -> dict[str, Any]:
    """Provenance written into GeoTIFF tags and GeoJSON properties (deterministic)."""
    m = mission.inputs[0] if mission.inputs else None
    return {
        "frigoris_version": frigoris_version(),
        "frigoris_mission": mission.name,
        "frigoris_mission_file": m.path if m else mission.source,
        "frigoris_mission_sha256": m.sha256 if m else "",
        "frigoris_seed": mission.seed,
    }


def _clear_previous(out_dir: pathlib.Path) -> None:
    """Remove outputs of an earlier run (and only those), so the manifest lists the folder."""
    for name in (*OUTPUT_DESCRIPTIONS, "manifest.json"):
        p = out_dir / name
        if p.is_file():
            p.unlink()


def _load_terrain(
    mission: Mission, out_dir: pathlib.Path, tags: dict[str, Any], progress: ProgressCallback
):
    """Load or synthesise the site; write dem.tif (and the site files) and hillshade.png."""
    s = mission.site
    if s.is_synthetic:
        params = s.synthetic
        site = synthesize(params, progress=lambda f, st="": progress(0.7 * f, st))
        ns = "N" if s.lat_deg >= 0 else "S"
        ew = "E" if s.lon_deg >= 0 else "W"
        label = (
            f"synthetic site {abs(s.lat_deg):.2f}{ns} {abs(s.lon_deg):.2f}{ew} (seed {params.seed})"
        )
        outputs = write_site(
            site,
            out_dir,
            tags={**tags, "frigoris_mission_site": label},
            # the default title names Mare Frigoris: keep it there, say "synthetic site" elsewhere
            title=None
            if (s.lat_deg, s.lon_deg) == RESILIENCE_TARGET
            else label[0].upper() + label[1:],
            progress=lambda f, st="": progress(0.7 + 0.3 * f, st),
        )
        return site.dem, site.rock_abundance, label, site, outputs
    around = (s.lat_deg, s.lon_deg) if s.window_m is not None else None
    dem = read_dem(s.dem, around=around, size_m=s.window_m, crs=s.crs)
    progress(0.5, "dem.tif")
    k: float | np.ndarray
    if isinstance(s.rock_abundance, pathlib.Path):
        layers, grid = read_layers(s.rock_abundance)
        if grid.shape != dem.shape or grid.transform != dem.transform:
            raise SpecError(
                f"{mission.source}: [site] rock_abundance raster {s.rock_abundance.name}"
                " is not on the DEM's grid as read; give a number (k) instead"
            )
        k = next(iter(layers.values()))
    else:
        k = float(s.rock_abundance)
    label = s.dem.name
    site_tags = {
        **tags,
        "frigoris_source": f"DEM {s.dem_as_written}",
        "frigoris_mission_site": label,
    }
    outputs = {
        "dem": write_geotiff(out_dir / "dem.tif", {"elevation": dem.elevation}, dem, tags=site_tags)
    }
    progress(0.7, "hillshade.png")
    outputs["hillshade"] = figures.site_map(
        dem, out_dir / "hillshade.png", title=f"{label} ({dem.res_m:.3g} m/px)"
    )
    progress(1.0, "site written")
    return dem, k, label, None, outputs


def _targets_xy(mission: Mission, dem: Dem):
    if not mission.targets:
        return None
    lat = np.array([t.lat_deg for t in mission.targets])
    lon = np.array([t.lon_deg for t in mission.targets])
    x, y = lunar_to_crs(dem.crs, lat, lon)
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    for t, xi, yi in zip(mission.targets, x, y, strict=True):
        if not dem.contains(float(xi), float(yi)):
            b = dem.bounds
            raise SpecError(
                f"{mission.source}: target {t.name!r} ({t.lat_deg}, {t.lon_deg}) is off the DEM "
                f"(x {b.left:.0f}..{b.right:.0f}, y {b.bottom:.0f}..{b.top:.0f} m); "
                "move it onto the site"
            )
    prio = np.array([t.priority for t in mission.targets])
    return x, y, prio, [t.name for t in mission.targets]


def context_figure(
    hm: HazardMap, target_xy: tuple[float, float], path: pathlib.Path, *, title: str
) -> pathlib.Path:
    """Regional map: hillshade, Horn slope, cast shadow and the aim point (coarse DEMs)."""
    from matplotlib.colors import ListedColormap

    dem = hm.grid
    fig, ax = figures.base_map(dem, title=title)
    extent = figures.map_extent(dem)
    im = ax.imshow(
        hm.slope_deg,
        cmap="magma_r",
        alpha=0.55,
        extent=extent,
        vmin=0,
        vmax=max(5.0, float(np.nanpercentile(hm.slope_deg, 99))),
        interpolation="nearest",
    )
    fig.colorbar(im, ax=ax, shrink=0.6, label="slope (deg, Horn)")
    if hm.shadow is not None:
        ax.imshow(
            np.where(hm.shadow, 1.0, np.nan),
            cmap=ListedColormap(["#1f3b73"]),
            alpha=0.6,
            extent=extent,
            interpolation="nearest",
        )
    ax.plot(*target_xy, marker="*", ms=18, color="white", mec="black", lw=0, label="aim point")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.75)
    return figures.save(fig, path)


def run_mission(
    mission: Mission, out_dir: str | os.PathLike, *, progress: ProgressCallback = _noop
) -> MissionResult:
    """Run the whole chain of a mission and write every output into ``out_dir``.

    Parameters
    ----------
    mission : Mission
        From :func:`load_mission` or :func:`builtin_mission`.
    out_dir : path-like
        Output folder (created). Files an earlier mission run wrote there are replaced; files
        frigoris does not write are left alone.
    progress : callable(fraction, stage), optional

    Returns
    -------
    MissionResult
        Outputs (key -> path, ``manifest`` last), the summary, the steps with their status and
        the objects behind the report. ``stopped`` says why the chain ended early, if it did.

    Raises
    ------
    RoverError, TerrainError
        Inputs that cannot work (a DEM that cannot be read, an aim point or a target off the
        DEM). An impossible step (crash, no deployment, a DEM too coarse for the lander) is not
        an error: the chain stops there and says why.
    """
    from .deploy import deploy
    from .landing import touchdown_job
    from .planning import plan_on_hazard, write_plan

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)
    tags = provenance(mission)
    L, R = mission.lander, mission.rover
    steps: list[Step] = []
    summary: dict[str, Any] = {"mission": mission.name}

    dem, rock_k, label, site, outputs = _load_terrain(
        mission, out, tags, lambda f, s="": progress(0.12 * f, s)
    )
    if site is not None:
        summary.update(site.summary())
    else:
        summary.update(
            size_px=list(dem.shape),
            res_m=round(dem.res_m, 4),
            center_lat_lon=[mission.site.lat_deg, mission.site.lon_deg],
            elevation_min_m=float(np.nanmin(dem.elevation)),
            elevation_max_m=float(np.nanmax(dem.elevation)),
            seed=mission.seed,
        )
    steps.append(
        Step("site", "done", f"{label}: {dem.shape[1]} x {dem.shape[0]} px at {dem.res_m:.3g} m")
    )
    target_xy = lunar_to_crs(dem.crs, mission.site.lat_deg, mission.site.lon_deg)
    target_xy = (float(target_xy[0]), float(target_xy[1]))
    if not dem.contains(*target_xy):
        raise SpecError(
            f"{mission.source}: [site] lat/lon ({mission.site.lat_deg}, "
            f"{mission.site.lon_deg}) is off the DEM; give a point on it"
        )
    targets = _targets_xy(mission, dem)

    common = dict(
        mission=mission,
        out_dir=out,
        outputs=outputs,
        summary=summary,
        dem=dem,
        label=label,
        site=site,
        target_xy=target_xy,
        targets_xy=() if targets is None else targets,
    )

    # 1. touchdown
    try:
        check_grid(dem, L)
    except TouchdownError as err:
        stop = (
            f"touchdown, deployment and the traverse plan are skipped: the DEM's "
            f"{dem.res_m:.4g} m pixels cannot resolve {L.name}'s {L.pad_circle_radius_m:g} m "
            f"pad circle (the touchdown model needs {L.pad_circle_radius_m / 2:g} m/px or "
            "finer). This mission gives regional context: the site and its hazard layers."
        )
        log.info("%s (%s)", stop, err)
        steps.append(Step("touchdown", "stopped", stop))
        hm = hazard_map(
            dem,
            hazard_limits(R),
            sun=resolve_sun(dem, when=mission.touchdown_utc),
            rock_abundance=rock_k,
            progress=lambda f, s="": progress(0.15 + 0.6 * f, s),
        )
        outputs.update(
            write_hazard(
                hm,
                out,
                tags=tags,
                title=(
                    f"Hazard layers at touchdown time ({_iso(mission.touchdown_utc)}), regional: "
                    f"{dem.res_m:.0f} m/px"
                ),
            )
        )
        outputs["context_png"] = context_figure(
            hm,
            target_xy,
            out / "context.png",
            title=f"{mission.name}\nslope at {dem.res_m / 1000:.2g} km baseline, shadow at "
            f"{_iso(mission.touchdown_utc)}",
        )
        summary.update(
            {
                f"hazard_{k}": v
                for k, v in hazard_summary(hm).items()
                if k not in ("size_px", "res_m")
            }
        )
        steps.append(
            Step(
                "hazard",
                "done",
                "hazard layers at the touchdown sun, no lander; "
                "rover-scale limits are not resolved at this scale",
            )
        )
        steps += [
            Step("deployment", "skipped", "no touchdown"),
            Step("plan", "skipped", "no touchdown"),
        ]
        summary["chain_stopped"] = stop
        return _finish(
            MissionResult(**common, steps=tuple(steps), hazard=hm, stopped=stop), progress
        )

    td, results = touchdown_job(
        None,
        out,
        runs=mission.touchdown.runs,
        scenarios=mission.touchdown.scenarios,
        seed=mission.seed,
        target_xy=target_xy,
        lander=L,
        dispersion=mission.touchdown.dispersion,
        safety_extent=mission.touchdown.safety_extent,
        site=(dem, rock_k, label),
        time=mission.touchdown_utc,
        tags=tags,
        progress=lambda f, s="": progress(0.12 + 0.13 * f, s),
    )
    outputs.update({f"touchdown_{k}": v for k, v in td.outputs.items()})
    for res in results:
        rs = res.summary()
        summary[f"touchdown_{res.scenario}_p_success"] = round(rs["p_success"], 3)
        summary[f"touchdown_{res.scenario}_crash"] = round(rs["crash"], 3)
    followed = next(res for res in results if res.scenario == mission.touchdown.follow)
    run = followed.runs[mission.touchdown.run]
    summary["touchdown_outcome"] = f"{run.outcome} at ({run.x:.1f}, {run.y:.1f}) m: {run.reason}"
    steps.append(
        Step(
            "touchdown",
            "done" if run.safe else "stopped",
            f"{mission.touchdown.follow} run {mission.touchdown.run}: {run.outcome}, {run.reason}",
        )
    )
    common.update(touchdowns=tuple(results), touchdown=run)

    # 2. hazard map at deployment (with the lander where it stands; without when it is lost)
    when = mission.deploy_time if run.safe else mission.touchdown_utc
    hm = hazard_map(
        dem,
        hazard_limits(R),
        sun=resolve_sun(dem, when=when),
        lander=lander_site(L, run.x, run.y) if run.safe else None,
        rock_abundance=rock_k,
        progress=lambda f, s="": progress(0.25 + 0.3 * f, s),
    )
    title = (
        f"Hazard map at deployment ({when:%Y-%m-%d %H:%M} UTC)"
        if run.safe
        else f"Hazard map at touchdown time ({when:%Y-%m-%d %H:%M} UTC), no lander standing"
    )
    outputs.update(write_hazard(hm, out, title=title, tags=tags))
    summary.update(
        {f"hazard_{k}": v for k, v in hazard_summary(hm).items() if k not in ("size_px", "res_m")}
    )
    steps.append(Step("hazard", "done", title))

    # 3. deployment
    handoff = deploy(run, hm if run.safe else None, L, R, time=mission.touchdown_utc, crs=dem.crs)
    outputs["handoff"] = handoff.write(out / "handoff.json")
    outputs["deploy_png"] = figures.deploy_figure(
        hm.grid,
        handoff,
        L,
        hm if run.safe else None,
        out / "deploy.png",
        title=f"Deployment of {R.name} from {L.name}",
    )
    summary["deployed"] = handoff.deployed
    common.update(hazard=hm, handoff=handoff)
    if not handoff.deployed:
        stop = "; ".join(handoff.reasons) or "no deployment"
        summary["chain_stopped"] = stop
        steps.append(Step("deployment", "stopped", stop))
        steps.append(Step("plan", "skipped", "the rover was never deployed"))
        return _finish(MissionResult(**common, steps=tuple(steps), stopped=stop), progress)
    summary["deploy_side_deg"] = handoff.side_deg
    steps.append(Step("deployment", "done", f"side {handoff.side_deg:g} deg"))

    # 4. traverse plan
    result = plan_on_hazard(
        hm,
        rover=R,
        lander=L,
        start_time=handoff.start_time,
        start_cell=handoff.start_rowcol(hm.grid),
        start_soc_wh=handoff.start_battery_wh,
        mission_days=mission.days,
        targets=targets,
        seed=mission.seed,
        time_limit_s=mission.planner.time_limit_s,
        rules=mission.planner.stops,
        progress=lambda f, s="": progress(0.55 + 0.35 * f, s),
    )
    outputs.update(write_plan(result, hm, out))
    ps = plan_summary(result)
    summary.update({f"plan_{k}": v for k, v in ps.items()})
    steps.append(
        Step(
            "plan",
            "done",
            f"{ps['stops']} stops, {ps['distance_m']:.0f} m, value {ps['plan_value']:.1f}",
        )
    )
    return _finish(MissionResult(**common, steps=tuple(steps), plan=result), progress)


def _finish(result: MissionResult, progress: ProgressCallback) -> MissionResult:
    """GeoPackage, provenance in the GeoJSON files, report, manifest."""
    from .gpkg import write_mission_geopackage
    from .report import write_report

    out, outputs = result.out_dir, result.outputs
    prov = provenance(result.mission)
    progress(0.9, "mission.gpkg")
    outputs["geopackage"] = write_mission_geopackage(result, out / "mission.gpkg")
    for path in outputs.values():
        if path.suffix == ".geojson":
            _stamp_geojson(path, prov)
    progress(0.95, "report.html")
    outputs["report"] = write_report(result, out / "report.html")
    outputs["manifest"] = write_manifest(result, out / "manifest.json")
    progress(1.0, "done" if result.stopped is None else "stopped: " + result.steps[-1].name)
    return result


def _stamp_geojson(path: pathlib.Path, prov: dict[str, Any]) -> None:
    """Add the provenance to a GeoJSON file's collection ``properties`` (atomic rewrite)."""
    doc = json.loads(path.read_text())
    doc["properties"] = {**doc.get("properties", {}), **prov}
    write_text(path, json.dumps(doc, allow_nan=False))


def write_manifest(result: MissionResult, path: pathlib.Path) -> pathlib.Path:
    """``manifest.json``: inputs and outputs with SHA-256, parameters, version, seed, steps.

    Everything in it is deterministic for the same inputs and software except
    ``created_utc``.
    """
    import rasterio

    mission = result.mission
    entries = []
    for key, p in sorted(result.outputs.items(), key=lambda kv: kv[1].name):
        if key == "manifest":
            continue
        entries.append(
            {
                "file": p.name,
                "key": key,
                "what": OUTPUT_DESCRIPTIONS.get(p.name, key),
                "bytes": p.stat().st_size,
                "sha256": sha256_file(p),
            }
        )
    doc = {
        "frigoris_manifest": MANIFEST_VERSION,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": {
            "frigoris": frigoris_version(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__,
        },
        "mission": mission.name,
        "mission_file": mission.inputs[0].path if mission.inputs else mission.source,
        "seed": mission.seed,
        "crs_wkt": result.dem.crs.to_wkt(),
        "steps": [dataclasses.asdict(s) for s in result.steps],
        "stopped": result.stopped,
        "inputs": [dataclasses.asdict(i) for i in mission.inputs],
        "parameters": mission.parameters(),
        "summary": _plain(result.summary),
        "outputs": entries,
    }
    return write_text(path, json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read ``manifest.json`` back (a plain dict)."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise SpecError(f"{p} does not exist; run `frigoris mission` first")
    return json.loads(p.read_text())


def mission_job(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    progress: ProgressCallback = _noop,
) -> MissionResult:
    """Load a mission file and run it (what ``frigoris mission`` calls)."""
    return run_mission(load_mission(path, overrides=overrides), out_dir, progress=progress)


def demo_mission_job(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    runs: int = 200,
    progress: ProgressCallback = _noop,
) -> JobResult:
    """Run the demo as a mission: the built-in HAKUTO-R Mission 2 file, ``seed`` and ``runs``.

    Writes the site, touchdown, hazard, handoff and plan outputs, plus ``mission.gpkg``,
    ``report.html`` and ``manifest.json``.
    """
    mission = builtin_mission(
        overrides=(f"mission.seed={int(seed)}", f"touchdown.runs={int(runs)}")
    )
    return run_mission(mission, out_dir, progress=progress).job_result()


__all__ = [
    "BUILTIN_MISSIONS",
    "InputFile",
    "Mission",
    "MissionResult",
    "PlannerLimits",
    "Site",
    "Step",
    "Target",
    "TouchdownPlan",
    "builtin_mission",
    "demo_mission_job",
    "load_mission",
    "mission_job",
    "provenance",
    "read_manifest",
    "run_mission",
    "sha256_file",
    "write_manifest",
]
