"""The application on top of the vehicle and mission models.

Layers, each importing only those below it:

- :mod:`~frigoris.rover.app.cli`: the ``frigoris`` command line, one small module per command;
- :mod:`~frigoris.rover.app.jobs`: one job per command (read inputs, run the models, write the
  products into an output folder); no click in them;
- :mod:`~frigoris.rover.app.products`: files and figures (GeoTIFF/GeoJSON/CSV writers, maps,
  GeoPackage, report, manifest);
- :mod:`~frigoris.rover.app.results` and :mod:`~frigoris.rover.app.mission_file`: the value
  types the jobs return and the mission file they read;
- :mod:`~frigoris.rover.app.formats`: the one set of JSON and formatting helpers.
"""
