"""The ``frigoris`` command line: one small module per command, loaded when it is run.

Every command parses its options (shared ones in :mod:`.options`), calls one job of
:mod:`frigoris.rover.app.jobs` and prints the result (:mod:`.console`). Package errors become
one line on stderr and exit code 1; click usage errors exit 2.
"""

from .group import main

__all__ = ["main"]
