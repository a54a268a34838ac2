"""The check framework: how one literature target is held against the model.

A :class:`Check` names a target, its status, how the model value is computed
and how it is compared; :func:`evaluate_checks` turns checks into rows of the
calibration table (:class:`CalibrationResult`). The check modules
(``checks_*.py``) hold the checks of each scale; :mod:`.calibration` gathers
them.

Status says how a target relates to the parameters (honest bookkeeping):

- ``input``: a parameter was taken from the same source, so agreement is by
  construction and is not evidence;
- ``calibrated``: a parameter marked ``fitted`` in the table was fitted to it;
- ``validation``: not used to set any parameter, an independent check;
- ``conflict``: another source disagrees and the model took a stated position;
- ``not modelled``: the model has no quantity that corresponds.

Verdict is ``pass``, ``miss`` (unexplained: ``neuroadapt calibrate`` exits
non-zero), ``explained miss`` (the note says why) or ``conflict``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

from neuroadapt.evidence import probes as P
from neuroadapt.evidence.targets import Target, load_targets

__all__ = [
    "CalibrationResult",
    "Check",
    "at_most",
    "between",
    "evaluate_checks",
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


@dataclass(frozen=True)
class Check:
    """How one target is evaluated."""

    target_id: str
    status: str
    evaluate: Callable[[], float]
    compare: Callable[[float, Target], bool]
    tolerance: str
    unit: str
    note: str = ""
    explained: bool = False


@dataclass
class CalibrationResult:
    """One row of the calibration table."""

    id: str
    scale: str
    species: str
    quantity: str
    literature: str
    model: str
    unit: str
    tolerance: str
    status: str
    verdict: str
    note: str
    source: str
    ref: str
    value: float = math.nan

    def as_dict(self) -> dict[str, str | float | None]:
        """Plain dict (for JSON and the report); a missing model value becomes ``None``."""
        d = asdict(self)
        d["value"] = None if math.isnan(self.value) else self.value
        return d


def within(rel: float) -> Callable[[float, Target], bool]:
    """Relative tolerance around the target value."""
    return lambda m, t: abs(m - t.value) <= rel * abs(t.value)


def within_abs(delta: float) -> Callable[[float, Target], bool]:
    """Absolute tolerance around the target value (in the target's unit, e.g. percentage points)."""
    return lambda m, t: abs(m - t.value) <= delta


def in_range(widen: float = 0.0) -> Callable[[float, Target], bool]:
    """Inside the reported range (optionally widened by a fraction of its width)."""

    def cmp(m: float, t: Target) -> bool:
        lo, hi = (t.low, t.high) if not math.isnan(t.low) else (t.value, t.value)
        w = (hi - lo) * widen
        return lo - w <= m <= hi + w

    return cmp


def at_most(limit: float) -> Callable[[float, Target], bool]:
    """Model value not above ``limit``."""
    return lambda m, t: m <= limit


def not_modelled() -> float:
    """Model value of a target the model cannot compute (reported as NaN)."""
    return math.nan


def never(m: float, t: Target) -> bool:
    """Comparison for a target the model cannot meet (an explained miss)."""
    return False


def is_true(m: float, t: Target) -> bool:
    """A direction check: the model statement holds (1.0) or not (0.0)."""
    return bool(m)


def holds(m: float, t: Target) -> bool:
    """A direction check that can be NaN (a missing variable): holds only for exactly 1.0."""
    return m == 1.0


def between(lo: float, hi: float) -> Callable[[float, Target], bool]:
    """Model value inside ``[lo, hi]`` (bounds stated by the check, not by the target)."""
    return lambda m, t: bool(lo <= m <= hi)


def parameter_value(name: str, species: str = "human", scale: float = 1.0) -> Callable[[], float]:
    """A check's model value read from the parameter table rather than simulated.

    Parameters
    ----------
    name
        Parameter name in the typical parameter set (:func:`.probes.params`).
    species
        ``"human"`` or ``"rat"``.
    scale
        Factor from the table's internal unit to the target's (e.g. 100 for %).

    Returns
    -------
    callable
        Reads the value when called, so that overrides made after building the
        check are seen.
    """
    return lambda: P.params(species)[name] * scale


def evaluate_checks(
    checks: tuple[Check, ...], scales: tuple[str, ...] | None = None
) -> list[CalibrationResult]:
    """Evaluate the given checks (those of ``scales`` only, if given) against their targets."""
    targets = load_targets()
    out = []
    for chk in checks:
        t = targets[chk.target_id]
        if scales is not None and t.scale not in scales:
            continue
        try:
            m = float(chk.evaluate())
            ok = bool(chk.compare(m, t))
            model_text = ("yes" if m else "no") if chk.compare is is_true else f"{m:.4g}"
        except Exception as exc:  # a probe that fails is a miss, reported with its reason
            m, ok, model_text = math.nan, False, f"error: {exc}"
        if chk.status == "conflict" and not ok:
            verdict = "conflict"
        elif ok:
            verdict = "pass"
        else:
            verdict = "explained miss" if chk.explained else "miss"
        out.append(
            CalibrationResult(
                id=t.id,
                scale=t.scale,
                species=t.species,
                quantity=t.quantity,
                literature=t.literature_text(),
                model=model_text,
                unit=chk.unit,
                tolerance=chk.tolerance,
                status=chk.status,
                verdict=verdict,
                note=chk.note,
                source=t.source,
                ref=t.ref,
                value=m,
            )
        )
    return out


def unexplained_misses(results: list[CalibrationResult]) -> list[CalibrationResult]:
    """Results whose verdict is an unexplained miss."""
    return [r for r in results if r.verdict == "miss"]
