"""The examples in the docstrings run, and give what they say (every module of frigoris)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import frigoris

PACKAGES = ("terrain", "planners", "rover")
MODULES = [frigoris.__name__] + sorted(
    m.name
    for m in pkgutil.walk_packages(frigoris.__path__, prefix="frigoris.")
    if m.name.split(".")[1] in PACKAGES
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_main_public_functions_have_examples():
    """Every function of the short public API (``import frigoris``) shows an example."""
    missing = []
    for name in sorted(set(frigoris.__all__)):
        obj = getattr(frigoris, name)
        doc = getattr(obj, "__doc__", None) or ""
        if callable(obj) and not isinstance(obj, type) and ">>>" not in doc:
            missing.append(name)
    assert not missing, f"public functions without a docstring example: {missing}"
