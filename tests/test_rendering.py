"""Figures drawn in worker processes while the report is assembled (report.rendering)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from neuroadapt.engine.workers import local_pool
from neuroadapt.report.figcache import png_bytes
from neuroadapt.report.plotting import panel_grid, to_data_uri
from neuroadapt.report.rendering import FigureBatch, deferred_figures, figure_uri, png_uri


def _figure(seed: int):
    fig, axes = panel_grid((4.0, 2.5), 1, 2)
    rng = np.random.default_rng(seed)
    for ax in axes.ravel():
        ax.plot(np.arange(50), rng.normal(size=50))
        ax.set_title(f"panel {seed}")
    return fig


def test_outside_the_context_a_figure_is_drawn_at_once():
    fig = _figure(0)
    assert figure_uri(fig, dpi=30) == png_uri(png_bytes(fig, 30))
    assert to_data_uri(fig, dpi=30) == png_uri(png_bytes(fig, 30))


def test_without_a_pool_the_batch_draws_here():
    fig = _figure(1)
    with deferred_figures(None) as batch:
        uri = to_data_uri(fig, dpi=30)
    assert uri.startswith("data:image/png;base64,")
    assert batch.resolve(f"<img src='{uri}'>") == f"<img src='{uri}'>"


def test_worker_drawn_pngs_are_the_bytes_drawn_here():
    pool = local_pool(2)
    assert pool is not None
    figs = [_figure(s) for s in range(3)]
    expected = [png_uri(png_bytes(f, 40)) for f in figs]
    with deferred_figures(pool) as batch:
        tokens = [to_data_uri(f, dpi=40) for f in figs]
    assert all(t.startswith("neuroadapt-figure-") for t in tokens)
    html = "".join(f'<img src="{t}" alt="{i}">' for i, t in enumerate(tokens))
    out = batch.resolve(html)
    assert re.findall(r'src="([^"]+)"', out) == expected
    assert "neuroadapt-figure-" not in out


def test_a_lost_placeholder_is_an_error():
    pool = local_pool(2)
    batch = FigureBatch(pool)
    batch.uri(_figure(4), dpi=30)
    with pytest.raises(RuntimeError, match="placeholder"):
        batch.resolve("<html>no figure here</html>")


def test_one_worker_or_a_cluster_gives_no_pool(monkeypatch):
    assert local_pool(1) is None
    monkeypatch.setenv("NEUROADAPT_SCHEDULER", "tcp://127.0.0.1:1")
    assert local_pool(2) is None


def test_the_pool_stays_joblibs_so_tasks_still_run_after_it():
    from neuroadapt.engine.workers import run_tasks, stop_workers

    stop_workers()  # no executor: local_pool must start joblib's kind
    pool = local_pool(2)
    assert pool.submit(int, "7").result() == 7
    assert run_tasks(int, [("1",), ("2",), ("3",)], workers=2) == [1, 2, 3]
