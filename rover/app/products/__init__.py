"""Products: the files and figures a run writes (rasters, vectors, tables, maps, report)."""
