"""Model against literature: every covered target, its tolerance, status and verdict.

The checks live in the check modules (``checks_*.py``), each with a
``CHECKS`` tuple; the framework they are written in (:class:`Check`, the
comparators, :func:`evaluate_checks`) is :mod:`neuroadapt.evidence.checks`,
re-exported here. This module gathers the check modules in one static
registry (:data:`CHECK_GROUPS`) and evaluates them, in worker processes when
asked (:func:`evaluate`).

Statuses (``input``, ``calibrated``, ``validation``, ``conflict``,
``not modelled``) and verdicts (``pass``, ``miss``, ``explained miss``,
``conflict``) are defined in :mod:`neuroadapt.evidence.checks`; an
unexplained miss makes ``neuroadapt calibrate`` exit non-zero.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from neuroadapt.engine.workers import default_workers, run_tasks
from neuroadapt.evidence import (
    checks_brain_duration,
    checks_clinical,
    checks_mortality,
    checks_neurochem,
    checks_pharmacology,
    checks_pk,
    checks_place_preference,
    checks_rat,
    checks_relapse,
    checks_structure,
    checks_tolerance,
    checks_treatment,
)
from neuroadapt.evidence import probes as P
from neuroadapt.evidence.checks import (
    CalibrationResult,
    Check,
    at_most,
    between,
    evaluate_checks,
    holds,
    in_range,
    is_true,
    never,
    not_modelled,
    parameter_value,
    unexplained_misses,
    within,
    within_abs,
)
from neuroadapt.evidence.targets import load_targets
from neuroadapt.model.dose import Dose

__all__ = [
    "CHECKS",
    "CHECK_GROUPS",
    "COVERED_SCALES",
    "CalibrationResult",
    "Check",
    "all_checks",
    "at_most",
    "between",
    "evaluate",
    "evaluate_checks",
    "group_checks",
    "holds",
    "in_range",
    "is_true",
    "never",
    "not_modelled",
    "parameter_value",
    "unexplained_misses",
    "within",
    "within_abs",
]

COVERED_SCALES = (
    "pk",
    "receptor",
    "signalling",
    "respiration",
    "dopamine",
    "glutamate",
    "inflammation",
    "structure",
    "white_matter",
    "cognition",
    "clinical",
    "self_administration",
    "reinstatement",
    "place_preference",
)

#: The pharmacology checks (PK, receptor, signalling, respiration).
CHECKS: tuple[Check, ...] = checks_pk.CHECKS + checks_pharmacology.CHECKS

#: Every check module, by group, in the order of the calibration table.
#:
#: A group is evaluated in one process, its modules' checks in the order
#: listed, so that the probes a group's modules share (cached per process)
#: are simulated once: ``structure`` and ``brain duration`` read the cohorts
#: of :mod:`.brain_probes`, place preference runs the lab of
#: :mod:`.checks_rat`, and the long-term modules read one life-course probe
#: (:mod:`.longterm_probe`).
CHECK_GROUPS: dict[str, tuple[ModuleType, ...]] = {
    "pharmacology": (checks_pk, checks_pharmacology),
    "neurochem": (checks_neurochem,),
    "structure": (checks_structure, checks_brain_duration),
    "clinical": (checks_clinical,),
    "rat": (checks_rat, checks_place_preference),
    "longterm": (checks_mortality, checks_tolerance, checks_relapse, checks_treatment),
}

#: Groups in the order they are handed to worker processes: the longest first
#: (structure's 15-year cohort, the clinical life courses, the virtual rats), so
#: that two workers finish at about the same time. Results keep the table order.
_LONGEST_FIRST = ("structure", "clinical", "rat", "pharmacology", "neurochem", "longterm")


def group_checks(group: str) -> tuple[Check, ...]:
    """The checks of one group of :data:`CHECK_GROUPS`, in table order.

    Parameters
    ----------
    group
        A key of :data:`CHECK_GROUPS` (e.g. ``"structure"``).

    Returns
    -------
    tuple of Check
        The ``CHECKS`` of the group's modules, one module after the other.
    """
    return tuple(c for module in CHECK_GROUPS[group] for c in module.CHECKS)


def all_checks() -> tuple[Check, ...]:
    """Every check of every group, in the order of the calibration table."""
    return tuple(c for g in CHECK_GROUPS for c in group_checks(g))


def _warm_up() -> None:
    """One hour of the typical subject, here, before the groups go to worker processes.

    Every group but the rats' calls the cohort kernel (one signature for
    cohorts and life courses); compiling it here, or loading it from numba's
    cache, spares the workers compiling it each at the same time.
    """
    P.run(P.params(), [Dose(0.0, "heroin", "iv", 10.0)], np.array([0.0, 1.0]))


#: The parameter overrides (``$NEUROADAPT_PARAMETERS``) the probes cached in this
#: process were computed with: none at first, whoever cached them (a direct
#: ``evaluate_checks`` call caches under the shipped table too).
_CACHED_FOR: list[str] = [""]


def clear_probe_caches() -> None:
    """Forget every probe cached in this process (``functools`` caches of the check modules)."""
    import sys

    for name, module in list(sys.modules.items()):
        if not name.startswith("neuroadapt.evidence.") or module is None:
            continue
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _evaluate_group(group: str, scales: tuple[str, ...] | None) -> list[CalibrationResult]:
    """Evaluate one group of checks (in a worker process or here).

    Probes are cached per process; a process that evaluated them under other
    parameter overrides (a reused worker, or a notebook calling
    ``neuroadapt.calibrate`` twice) forgets them first.
    """
    import os

    from neuroadapt.parameters.table import OVERRIDES_ENV

    now = os.environ.get(OVERRIDES_ENV, "")
    if _CACHED_FOR[0] != now:
        clear_probe_caches()
    _CACHED_FOR[0] = now
    return evaluate_checks(group_checks(group), scales)


def evaluate(
    scales: tuple[str, ...] = COVERED_SCALES,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CalibrationResult]:
    """Evaluate every check whose target belongs to ``scales``.

    The groups of :data:`CHECK_GROUPS` are independent (their probes are
    cached per process); with ``workers`` > 1 they run in worker processes.
    The results, in table order, do not depend on it.

    Parameters
    ----------
    scales
        Only the targets of these scales (default: :data:`COVERED_SCALES`).
    workers
        Worker processes; default ``$NEUROADAPT_WORKERS`` or one per CPU.
    progress
        Called with (groups done, groups in all) as each group finishes.

    Returns
    -------
    list of CalibrationResult
        One row per evaluated target, in the order of the calibration table.
    """
    targets = load_targets()
    groups = [
        g
        for g in _LONGEST_FIRST
        if any(targets[c.target_id].scale in scales for c in group_checks(g))
    ]
    finished = [0]

    def group_done(_index: int, _results: list[CalibrationResult]) -> None:
        finished[0] += 1
        if progress:
            progress(finished[0], len(groups))

    parts = run_tasks(
        _evaluate_group,
        [(g, scales) for g in groups],
        default_workers() if workers is None else workers,
        group_done,
        warm_up=_warm_up,
    )
    by_group = dict(zip(groups, parts, strict=True))
    return [r for g in CHECK_GROUPS for r in by_group.get(g, [])]
