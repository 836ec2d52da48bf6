"""Shared fixtures: small DEM factories, paths to the real data in the repository, GDAL tools."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from frigoris.terrain import Dem, local_metric_crs

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO / "examples" / "data"
"""Real public DEMs kept in the repository (see its README)."""
LOLA = DATA / "LDEM_4_MareFrigoris_50N65N_40W40E_eqc_clon0.tif"
LOLA_ATLAS = DATA / "LDEM_4_Atlas_40N55N_30E60E_eqc_clon0.tif"
SHOEMAKER_5M = DATA / "shoemaker_5mpp_south_pole.tif"
OP_DATA = REPO / "benchmarks" / "data" / "op"


@pytest.fixture
def site_crs():
    return local_metric_crs(60.5, -4.6)


@pytest.fixture
def make_dem(site_crs):
    """Factory: ``make_dem(array, res_m=0.5)`` -> Dem on the local site CRS centred on (0, 0)."""

    def _make(z, res_m: float = 0.5) -> Dem:
        return Dem.from_array(np.asarray(z, dtype=np.float32), res_m=res_m, crs=site_crs)

    return _make


@pytest.fixture(scope="session")
def lola_path() -> pathlib.Path:
    if not LOLA.exists():
        pytest.fail(f"LOLA crop missing at {LOLA}: the repository is incomplete")
    return LOLA


def gdal_tool(name: str) -> str:
    """Path of a GDAL command-line tool; `make test` installs gdal-bin, so absence is a failure."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: run `make test` (installs gdal-bin) or apt-get install gdal-bin"
        )
    return path


def run_gdal(*args: str) -> str:
    return subprocess.run(
        [gdal_tool(args[0]), *args[1:]], check=True, capture_output=True, text=True
    ).stdout
