"""The plan map draws every cell the planner will not enter, each kind with its legend entry."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from frigoris.planners.stops import Candidates
from frigoris.rover.app.products import figures
from frigoris.rover.specs import TENACIOUS, hazard_limits
from frigoris.terrain.hazard import hazard_map
from frigoris.terrain.synth import synthesize


@pytest.fixture(scope="module")
def small_map():
    site = synthesize(size_m=32.0, res_m=0.5, seed=2)
    return hazard_map(site.dem, hazard_limits(TENACIOUS))


def _drawn(hm, monkeypatch, closed):
    """The figure plan_figure built (captured instead of saved)."""
    kept = {}

    def capture(fig, path, dpi=130):
        kept["fig"] = fig
        return path

    monkeypatch.setattr(figures, "save", capture)
    r, c = hm.grid.shape[0] // 2, hm.grid.shape[1] // 2
    x, y = hm.grid.xy(np.array([r, r]), np.array([c, c + 4]))
    plan = SimpleNamespace(
        legs=[np.array([[r, c + k] for k in range(5)])],
        stops=Candidates(
            np.asarray(x),
            np.asarray(y),
            np.array([[r, c], [r, c + 4]]),
            ("start", "scoop"),
            np.array([0.0, 1.0]),
            np.zeros(2),
            ("start", "s1"),
            ("", ""),
        ),
    )
    figures.plan_figure(hm, plan, "unused.png", title="t", closed=closed)
    fig = kept["fig"]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    images = fig.axes[0].get_images()
    figures.plt.close(fig)
    return labels, images


def test_closed_cells_are_drawn_with_their_rule(small_map, monkeypatch):
    closed = np.zeros(small_map.grid.shape, bool)
    closed[:8, :8] = True
    labels, images = _drawn(small_map, monkeypatch, (closed, 0.1))
    assert "closed: riskier in one step than a command cycle may be (10 %)" in labels
    purple = [im for im in images if im.get_cmap()(1.0) == to_rgba("#9467bd")]
    assert len(purple) == 1
    shown = np.isfinite(np.asarray(purple[0].get_array(), dtype=float))
    assert shown[:2, :2].all() and not shown[-2:, -2:].any()


def test_nothing_closed_draws_no_entry(small_map, monkeypatch):
    nothing = np.zeros(small_map.grid.shape, bool)
    for closed in (None, (nothing, 0.1)):
        labels, _ = _drawn(small_map, monkeypatch, closed)
        assert not any(t.startswith("closed") for t in labels)
        assert "keep-out" in labels
