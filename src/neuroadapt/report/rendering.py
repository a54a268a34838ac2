"""Rendering the report's figures to PNG, in worker processes while the report is assembled.

Drawing a figure with matplotlib's Agg renderer (``savefig``) is most of a
report's time, and the report is built in one process while the other cores
wait. Inside :func:`deferred_figures`, :func:`figure_uri` pickles each
figure, sends it to the reusable worker processes of the simulation
(:func:`neuroadapt.engine.workers.local_pool`) and returns a placeholder;
the report goes on building while the workers draw, and
:meth:`FigureBatch.resolve` puts each PNG in place of its placeholder in the
finished HTML. The PNG bytes are those of drawing the figure here (a pickled
figure draws the same pixels; tested). Without workers, or outside the
context, figures are drawn at once.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import pickle
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

from matplotlib.figure import Figure

from neuroadapt.report.figcache import png_bytes

__all__ = ["FigureBatch", "deferred_figures", "figure_uri", "png_uri"]

_ACTIVE: contextvars.ContextVar[FigureBatch | None] = contextvars.ContextVar(
    "neuroadapt_figure_batch", default=None
)


def png_uri(raw: bytes) -> str:
    """``data:image/png;base64,...`` of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


def _draw_pickled(raw: bytes, dpi: int) -> bytes:
    """Worker side: the PNG of a pickled figure."""
    return png_bytes(pickle.loads(raw), dpi)


class FigureBatch:
    """Figures sent to worker processes, each known by a placeholder until resolved.

    Parameters
    ----------
    pool
        A ``concurrent.futures`` executor, or None to draw every figure at once.
    """

    def __init__(self, pool: Any | None) -> None:
        self._pool = pool
        self._tag = uuid.uuid4().hex
        self._pending: dict[str, Future] = {}

    def uri(self, fig: Figure, dpi: int = 96) -> str:
        """The figure's data URI, or a placeholder for it while a worker draws it."""
        if self._pool is None:
            return png_uri(png_bytes(fig, dpi))
        token = f"neuroadapt-figure-{self._tag}-{len(self._pending):04d}"
        try:
            self._pending[token] = self._pool.submit(_draw_pickled, pickle.dumps(fig), dpi)
        except RuntimeError:  # the pool was shut down or broke: draw here from now on
            self._pool = None
            return png_uri(png_bytes(fig, dpi))
        return token

    def resolve(self, text: str) -> str:
        """``text`` with every placeholder replaced by its figure's data URI.

        Raises
        ------
        RuntimeError
            If a placeholder is missing from ``text`` (a figure would be lost).
        """
        for token, future in self._pending.items():
            if token not in text:
                raise RuntimeError(f"figure placeholder {token} is not in the report")
            text = text.replace(token, png_uri(future.result()))
        self._pending.clear()
        return text


@contextlib.contextmanager
def deferred_figures(pool: Any | None) -> Iterator[FigureBatch]:
    """Within the block, :func:`figure_uri` sends figures to ``pool`` (see the module docstring)."""
    batch = FigureBatch(pool)
    reset = _ACTIVE.set(batch)
    try:
        yield batch
    finally:
        _ACTIVE.reset(reset)


def figure_uri(fig: Figure, dpi: int = 96) -> str:
    """A figure as a PNG data URI, or a placeholder inside :func:`deferred_figures`."""
    batch = _ACTIVE.get()
    if batch is None:
        return png_uri(png_bytes(fig, dpi))
    return batch.uri(fig, dpi)
