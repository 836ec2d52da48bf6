"""What ``frigoris hazard`` loads at start-up: the models it runs, not every job's.

Start-up is part of what a user waits for (issue 21): the hazard command has no route, plan,
deployment nor mission file, so it must not import the planners or the mission's models.
"""

from __future__ import annotations

import subprocess
import sys

NOT_FOR_HAZARD = (
    "frigoris.planners.routes",
    "frigoris.planners.paths",
    "frigoris.rover.deploy",
    "frigoris.rover.planning",
    "ortools",
)


def test_the_hazard_command_loads_neither_the_planners_nor_the_deployment():
    code = "import sys, frigoris.rover.app.cli.hazard; print(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(res.stdout.split())
    assert "frigoris.terrain.hazard" in loaded  # the probe sees the command's own imports
    assert sorted(loaded.intersection(NOT_FOR_HAZARD)) == []
