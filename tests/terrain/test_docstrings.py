"""The examples in the terrain docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "frigoris.terrain.hazard",
    "frigoris.terrain.io",
    "frigoris.terrain.link",
    "frigoris.terrain.rocks",
    "frigoris.terrain.roughness",
    "frigoris.terrain.synth",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
