"""A cache of the calibration table, keyed by everything that can change it.

Evaluating every target simulates dozens of probes (about 15 s in two worker
processes on 2 cores).
The key is a hash of the package version and of the bytes of every source,
parameter and target file of the installed package outside the layers that
cannot change a calibration result (``cli``, ``report``, ``imaging``,
``analysis``: import-linter keeps ``evidence`` from importing them), so any
change to the model, its parameters, the engine or the targets gives a new
key; nothing stale is ever served. The cache lives in ``$NEUROADAPT_CACHE``, else
``$XDG_CACHE_HOME/neuroadapt``, else ``~/.cache/neuroadapt``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from neuroadapt.atomic import write_text
from neuroadapt.cache import cache_dir, cached, code_key
from neuroadapt.evidence.calibration import CalibrationResult, evaluate

__all__ = ["cache_dir", "code_key", "evaluate_cached"]


def _load(path: Path) -> list[CalibrationResult]:
    return [
        CalibrationResult(**{**r, "value": float("nan") if r["value"] is None else r["value"]})
        for r in json.loads(path.read_text())
    ]


def evaluate_cached(
    directory: Path | None = None, progress: Callable[[int, int], None] | None = None
) -> list[CalibrationResult]:
    """:func:`~neuroadapt.evidence.calibration.evaluate`, reusing a result for the same code.

    ``progress`` is passed to ``evaluate`` (it is not called when the result is cached).
    """
    return cached(
        (directory or cache_dir()) / f"calibration-{code_key()}.json",
        _load,
        lambda: evaluate(progress=progress),
        lambda path, results: write_text(path, json.dumps([r.as_dict() for r in results])),
    )
