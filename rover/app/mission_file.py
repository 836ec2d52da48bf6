"""Mission files: one TOML file describes a mission; :func:`load_mission` reads and checks it.

A mission file names the site (a DEM, or the parameters of a synthetic site), the touchdown
time, the lander and rover (built-in names or spec files, with overrides), the touchdown Monte
Carlo, the planner's limits, user targets and the seed. Every mistake is one
:class:`~frigoris.rover.errors.SpecError` line naming the file, the key and the fix.

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
    # at = {lat = 60.5001, lon = -4.6002, yaw_deg = 0}   # placed by hand (or {x = .., y = ..}
    #                           # in map metres): no touchdown Monte Carlo, no [touchdown] table

    [rover]
    spec = "tenacious"

    [touchdown]
    runs = 200
    scenarios = ["nominal", "mission-2", "mission-1"]
    follow = "nominal"          # the chain continues from this scenario's run number `run`
    run = 0                     # or "first-deployable": its first nominal run the rover leaves
    [touchdown.dispersion]      # Dispersion fields
    sigma_major_m = 50

    [planner]
    time_limit_s = 10
    [planner.stops]             # StopRules fields
    scoop_value = 10

    [operations]
    spec = "hakuto-r-m2"        # built-in operations (cadence, flight rules) or a TOML file
    ground_processing_s = 5400  # any OpsSpec field overrides the spec
    [[operations.waivers]]      # a flight rule waived by name, with the reason
    rule = "sun"
    reason = "the team accepts drives at dawn on day 1"

    [[targets]]
    name = "bright ejecta"
    lat = 60.501
    lon = -4.599
    priority = 2
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import pathlib
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from frigoris.planners.sequence_check import RULES as FLIGHT_RULES
from frigoris.planners.stops import StopRules
from frigoris.terrain.errors import TerrainError
from frigoris.terrain.synth import SynthParams

from ..errors import SpecError, TouchdownError
from ..specs import (
    BUILTIN,
    BUILTIN_OPERATIONS,
    OPERATIONS,
    LanderSpec,
    OpsSpec,
    RoverSpec,
    SimSpec,
    check_radio_rate,
    check_types,
)
from ..touchdown import SCENARIOS, Dispersion, TouchdownResult, TouchdownRun
from .formats import plain, utc_iso
from .provenance import sha256_file

EPHEMERIS_SPAN = (
    datetime(1900, 1, 1, tzinfo=timezone.utc),
    datetime(2050, 1, 1, tzinfo=timezone.utc),
)
"""Times frigoris can place the Sun and Earth for (the DE421 ephemeris it ships, with margin)."""

__all__ = [
    "BUILTIN_MISSIONS",
    "EPHEMERIS_SPAN",
    "InputFile",
    "Mission",
    "Placement",
    "PlannerLimits",
    "Site",
    "Target",
    "TouchdownPlan",
    "Waiver",
    "builtin_mission",
    "load_mission",
]


BUILTIN_MISSIONS = {"hakuto-r-m2": "mission_hakuto_r_m2.toml"}
"""Mission files shipped with the package (``frigoris demo`` runs the first one)."""


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


FIRST_NOMINAL = "first-deployable"
"""``[touchdown] run`` value: follow the first run of the scenario that comes to rest nominal
and from which the rover deploys (at most ``MAX_DEPLOY_TRIES`` nominal runs are tried)."""

MAX_DEPLOY_TRIES = 10
"""Nominal runs tried, in order, for ``run = "first-deployable"`` (each maps the hazards)."""


@dataclass(frozen=True)
class TouchdownPlan:
    """The touchdown Monte Carlo and which run the chain follows.

    ``run`` is a run number, or None for the first run of the ``follow`` scenario that comes
    to rest nominal and from which the rover deploys (``run = "first-deployable"`` in the
    file): a rule that stays right when the terrain model or the seed changes, where a
    hand-picked number would not. Deployment is tried by the mission job, on
    :meth:`candidates` in order.
    """

    runs: int = 200
    scenarios: tuple[str, ...] = SCENARIOS
    follow: str = "nominal"
    run: int | None = 0
    dispersion: Dispersion = field(default_factory=Dispersion)
    safety_extent: str = "ellipse"

    def candidates(self, result: TouchdownResult) -> tuple[TouchdownRun, ...]:
        """The runs to try deploying from, in order (empty: ``run`` names one)."""
        if self.run is not None:
            return ()
        return tuple(r for r in result.runs if r.outcome == "nominal")[:MAX_DEPLOY_TRIES]

    def followed(self, result: TouchdownResult) -> tuple[int, TouchdownRun, str]:
        """The run the chain follows in ``result`` (the ``follow`` scenario's), and why it.

        With ``run`` None and no nominal run, the first run is followed and the chain stops
        on its outcome.
        """
        if self.run is not None:
            return self.run, result.runs[self.run], f"run {self.run}"
        for i, r in enumerate(result.runs):
            if r.outcome == "nominal":
                return i, r, f"run {i}, the first to come to rest nominal"
        return 0, result.runs[0], "run 0: no run came to rest nominal"


@dataclass(frozen=True)
class Placement:
    """A lander placed by hand (``[lander] at``): where it stands, known rather than simulated.

    Either ``lat_deg``/``lon_deg`` or map ``x_m``/``y_m`` (metres in the DEM's CRS) is set.
    """

    lat_deg: float | None = None
    lon_deg: float | None = None
    x_m: float | None = None
    y_m: float | None = None
    yaw_deg: float = 0.0

    @property
    def text(self) -> str:
        """The position as the mission file wrote it."""
        if self.x_m is not None:
            return f"x {self.x_m:g} m, y {self.y_m:g} m"
        return f"lat {self.lat_deg:g}, lon {self.lon_deg:g}"


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
class Waiver:
    """A flight rule of the command sequences waived by name, and why."""

    rule: str
    reason: str


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
    operations: OpsSpec = OPERATIONS
    waivers: tuple[Waiver, ...] = ()
    sim: SimSpec = field(default_factory=SimSpec.load)
    """What the closed-loop operations simulation degrades and perturbs (``frigoris ops-sim``)."""
    lander_at: Placement | None = None
    """The lander placed by hand (``[lander] at``); None: the touchdown Monte Carlo places it."""

    @property
    def deploy_time(self) -> datetime:
        """When the rover is lowered: touchdown plus the lander's checkout."""
        return self.touchdown_utc + timedelta(hours=self.lander.checkout_h)

    def parameters(self) -> dict[str, Any]:
        """Every resolved parameter as plain JSON values (the manifest records them)."""
        s = self.site
        site: dict[str, Any] = {"lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
        if s.is_synthetic:
            site["synthetic"] = plain(dataclasses.asdict(s.synthetic))
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
            "touchdown_utc": utc_iso(self.touchdown_utc),
            "deploy_utc": utc_iso(self.deploy_time),
            "days": self.days,
            "site": site,
            "lander": _spec_dict(self.lander),
            "rover": _spec_dict(self.rover),
            "touchdown": {
                "runs": td.runs,
                "scenarios": list(td.scenarios),
                "follow": td.follow,
                "run": FIRST_NOMINAL if td.run is None else td.run,
                "safety_extent": td.safety_extent,
                "dispersion": plain(dataclasses.asdict(td.dispersion)),
            },
            "planner": {
                "time_limit_s": self.planner.time_limit_s,
                "stops": plain(dataclasses.asdict(self.planner.stops)),
            },
            "targets": [plain(dataclasses.asdict(t)) for t in self.targets],
            "overrides": list(self.overrides),
            "operations": _spec_dict(self.operations),
            "waivers": [plain(dataclasses.asdict(w)) for w in self.waivers],
            "ops_sim": _spec_dict(self.sim),
            "lander_at": None
            if self.lander_at is None
            else {k: v for k, v in dataclasses.asdict(self.lander_at).items() if v is not None},
        }


def _spec_dict(spec) -> dict[str, Any]:
    d = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "sources"}
    return plain(d)


_TABLES = ("mission", "site", "lander", "rover", "touchdown", "planner", "operations", "targets")


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
    builtin: dict[str, str] = BUILTIN,
    skip: tuple[str, ...] = ("spec",),
):
    """Load a lander, rover or operations spec (built-in name or file), then apply overrides."""
    name = table.get("spec", default)
    if not isinstance(name, str) or not name.strip():
        raise r.fail(
            f"[{where}] spec = {name!r}",
            "is not a name or a path",
            f'write spec = "{default}" or spec = "my_{kind}.toml"',
        )
    if name.lower() in builtin:
        source: str | pathlib.Path = name.lower()
        text = resources.files("frigoris.rover.data").joinpath(builtin[name.lower()]).read_bytes()
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
                f"is neither a built-in spec {sorted(builtin)} nor an existing file",
                "fix the path (relative to the mission file)",
            )
        source = path
        inputs.append(_file_input(f"{kind} spec", path, name))
    spec = cls.load(source)
    overrides = {k: v for k, v in table.items() if k not in skip}
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
    check_types(cls, overrides, f"{r.origin}: [{where}]")
    sources = dict(spec.sources)
    for k in overrides:
        sources[k] = f"mission file: {r.origin}"
    try:
        new = dataclasses.replace(spec, **overrides, sources=sources)
        new.validate()
    except (TypeError, SpecError) as err:
        raise _wrapped(r.origin, f"[{where}] overrides", err) from err
    return new


def _sim_spec(ot: dict, base: pathlib.Path, r: _Reader) -> SimSpec:
    """The ``[sim]`` table of the operations spec file, with ``[operations.sim]`` overrides."""
    name = ot.get("spec", "hakuto-r-m2")
    source = (
        name.lower()
        if isinstance(name, str) and name.lower() in BUILTIN_OPERATIONS
        else (base / str(name)).resolve()
    )
    try:
        spec = SimSpec.load(source)
    except SpecError as err:
        raise r.fail("[operations] spec", f"has no usable [sim] table ({err})", "add one") from None
    table = ot.get("sim", {})
    if not isinstance(table, dict):
        raise r.fail("[operations.sim]", "is not a table", "write [operations.sim]")
    if not table:
        return spec
    names = {f.name for f in dataclasses.fields(SimSpec)} - {"sources", "name"}
    r.unknown(table, "operations.sim", names)
    check_types(SimSpec, table, f"{r.origin}: [operations.sim]")
    sources = {**spec.sources, **{k: f"mission file: {r.origin}" for k in table}}
    try:
        new = dataclasses.replace(spec, **table, sources=sources)
        new.validate()
    except (TypeError, SpecError) as err:
        raise _wrapped(r.origin, "[operations.sim]", err) from err
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

    Examples
    --------
    >>> m = load_mission("hakuto-r-m2", overrides=["touchdown.runs=50"])
    >>> m.rover.name, m.lander.name, m.touchdown.runs
    ('Tenacious', 'Resilience', 50)
    >>> load_mission("hakuto-r-m2", overrides=["site.lat=95"])
    Traceback (most recent call last):
    ...
    frigoris.rover.errors.SpecError: built-in mission hakuto-r-m2: [site] lat = 95 is outside ...
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
    if not EPHEMERIS_SPAN[0] <= when < EPHEMERIS_SPAN[1]:
        raise r.fail(
            f"[mission] touchdown_utc = {utc_iso(when)}",
            f"is outside {EPHEMERIS_SPAN[0].year}-{EPHEMERIS_SPAN[1].year - 1}",
            "give a time within the DE421 ephemeris frigoris ships",
        )
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

    lt = r.table(doc, "lander")
    lander = _spec(
        "lander", lt, "lander", base, r, LanderSpec, "resilience", inputs, skip=("spec", "at")
    )
    lander_at = _placement(lt, r)
    if lander_at is not None and "touchdown" in doc:
        raise r.fail(
            "[touchdown]",
            "is given with [lander] at, which places the lander by hand",
            "drop one: [lander] at (no Monte Carlo) or [touchdown] (the Monte Carlo places it)",
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
    if t.get("run") == FIRST_NOMINAL:
        run = None
    elif isinstance(t.get("run"), str):
        raise r.fail(
            f"[touchdown] run = {t['run']!r}",
            "is not a run number",
            f'give a whole number in [0, {runs - 1}] or "{FIRST_NOMINAL}"',
        )
    else:
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
    check_types(StopRules, rules_table, f"{origin}: [planner.stops]")
    for k, v in rules_table.items():
        if any(x < 0 for x in (v if isinstance(v, list) else [v])):
            raise r.fail(f"[planner.stops] {k} = {v!r}", "is negative", "give a value >= 0")
    rules_table = {k: tuple(v) if isinstance(v, list) else v for k, v in rules_table.items()}
    planner = PlannerLimits(limit, StopRules(**rules_table))

    # operations: the command cycle, the flight rules and their waivers
    ot = r.table(doc, "operations")
    operations = _spec(
        "operations",
        ot,
        "operations",
        base,
        r,
        OpsSpec,
        "hakuto-r-m2",
        inputs,
        builtin=BUILTIN_OPERATIONS,
        skip=("spec", "waivers", "sim"),
    )
    try:
        check_radio_rate(rover, lander, operations)
    except SpecError as err:
        raise SpecError(f"{origin}: {err}") from err
    sim = _sim_spec(ot, base, r)
    wt = ot.get("waivers", [])
    if not isinstance(wt, list):
        raise r.fail(
            "operations.waivers",
            "is not an array of tables",
            "write each as [[operations.waivers]]",
        )
    waivers = []
    for i, item in enumerate(wt, start=1):
        where = f"operations.waivers #{i}"
        if not isinstance(item, dict):
            raise r.fail(f"[[operations.waivers]] #{i}", "is not a table", "write rule and reason")
        r.unknown(item, where, {"rule", "reason"})
        rule = r.string(item, "rule", where, ...)
        if rule not in FLIGHT_RULES:
            raise r.fail(
                f"[{where}] rule = {rule!r}",
                "is not a flight rule",
                f"waive one of {list(FLIGHT_RULES)}",
            )
        reason = r.string(item, "reason", where, ...)
        waivers.append(Waiver(rule, reason))

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
        operations,
        tuple(waivers),
        sim,
        lander_at,
    )


def _placement(table: dict, r: _Reader) -> Placement | None:
    """``[lander] at = {lat, lon}`` or ``{x, y}`` (map metres), with an optional ``yaw_deg``."""
    if "at" not in table:
        return None
    at = table["at"]
    fix = "write at = {lat = .., lon = ..} or at = {x = .., y = ..} (map metres), yaw_deg optional"
    if not isinstance(at, dict):
        raise r.fail(f"[lander] at = {at!r}", "is not an inline table", fix)
    where = "lander.at"
    r.unknown(at, where, {"lat", "lon", "x", "y", "yaw_deg"})
    yaw = r.number(at, "yaw_deg", where, 0.0, lo=0.0, hi=360.0, unit=" degrees")
    latlon, xy = {"lat", "lon"} & set(at), {"x", "y"} & set(at)
    if latlon and xy or len(latlon | xy) != 2 or (latlon and len(latlon) != 2):
        raise r.fail(f"[lander] at = {at!r}", "needs either lat and lon or x and y", fix)
    if xy:
        return Placement(
            x_m=r.number(at, "x", where, ..., unit=" m"),
            y_m=r.number(at, "y", where, ..., unit=" m"),
            yaw_deg=yaw,
        )
    lon = r.number(at, "lon", where, ..., lo=-180.0, hi=360.0, unit=" degrees east")
    return Placement(
        lat_deg=r.number(at, "lat", where, ..., lo=-90.0, hi=90.0, unit=" degrees north"),
        lon_deg=lon - 360.0 if lon > 180.0 else lon,
        yaw_deg=yaw,
    )


def builtin_mission(
    name: str = "hakuto-r-m2", *, overrides: list[str] | tuple[str, ...] = ()
) -> Mission:
    """Load a mission file shipped with frigoris (``"hakuto-r-m2"``: Resilience, Tenacious).

    Examples
    --------
    >>> m = builtin_mission()
    >>> m.lander.name, m.site.lat_deg, m.site.lon_deg
    ('Resilience', 60.5, -4.6)
    """
    if name.lower() not in BUILTIN_MISSIONS:
        raise SpecError(f"no built-in mission {name!r}; choose one of {sorted(BUILTIN_MISSIONS)}")
    return load_mission(name, overrides=overrides)
