"""frigoris: surface-operations planner for small lunar rovers.

This folder installs as the ``frigoris`` package; its sub-folders install beneath it:
``terrain/`` as :mod:`frigoris.terrain` (rasters), ``planners/`` as :mod:`frigoris.planners`
(graphs and schedules) and ``rover/`` as :mod:`frigoris.rover` (the mission).
"""
