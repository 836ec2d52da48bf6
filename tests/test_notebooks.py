"""The example notebooks run top to bottom (nbclient, a kernel from this environment)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import REPO

EXAMPLES = REPO / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT_S = 900
"""A hang guard per cell, not a speed target: how long a notebook takes is measured, not
tested (a loaded machine must not fail the suite); the README gives the times."""


def test_there_are_four_notebooks_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_dem_to_hazard.ipynb",
        "02_tenacious_ten_days.ipynb",
        "03_touchdown_and_deployment.ipynb",
        "04_operations_loop.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), path.name
        assert path.stat().st_size < 40_000


@pytest.fixture
def this_python_kernel(tmp_path, monkeypatch):
    """Make kernel "python3" this environment's Python, whatever kernels the user installed."""
    from ipykernel.kernelspec import write_kernel_spec

    write_kernel_spec(tmp_path / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, this_python_kernel):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:  # the failing cell and its traceback, not a kernel dump
        pytest.fail(f"{path.name}: a cell failed\n{str(err)[-4000:]}")
    images = sum(
        "image/png" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert images >= 2, f"{path.name} shows {images} plots"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
