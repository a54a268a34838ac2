"""Dose events of the SBML export: one event per dose time or one table-driven event.

One job: turn a subject's doses into SBML events (``engine.sbml``), with the
underflow flush the kernel applies at each dose, the periodic-gap walk and
the lookup tables of the single table-driven event.
"""

from __future__ import annotations

from collections.abc import Sequence

import libsbml
import numpy as np

from neuroadapt.engine.sbml_equations import (
    MAX_GAP_PERIOD,
    NO_MORE_DOSES_H,
    UNDERFLOW_FLOOR,
    _check,
    _Equations,
    _notes_xhtml,
    _num,
    _parse,
    pk_id,
)
from neuroadapt.engine.simulate import Prepared
from neuroadapt.model.dose import Dose


def _dose_groups(doses: Sequence[Dose], prep: Prepared) -> list[tuple[float, dict[int, list[str]]]]:
    """Doses grouped by time: (time, {state index: amount terms in L3 infix, micromol}).

    Simultaneous doses become one event so that no assignment overwrites another.
    """
    groups: dict[float, dict[int, list[str]]] = {}
    for d in doses:
        pair = (d.drug, d.route)
        st = prep.pk.dose_state[pair]
        factor = f"dose_factor_{d.drug}_{d.route}"
        if d.unit == "mg":
            term = f"{_num(d.amount)} mg * {factor}"
        elif d.unit == "mg/kg":
            term = f"{_num(d.amount)} mg_per_kg * body_weight * {factor}"
        else:
            raise ValueError(f"dose unit '{d.unit}' is not 'mg' or 'mg/kg'")
        groups.setdefault(float(d.time_h), {}).setdefault(st, []).append(term)
    return sorted(groups.items())


FLUSH_FUNCTION = "flush_underflow"


def _add_flush_function(model: libsbml.Model) -> None:
    """``flush_underflow(x, floor) = 0 if |x| < floor else x``, once per document."""
    fd = model.createFunctionDefinition()
    _check(fd.setId(FLUSH_FUNCTION), "flush function id")
    # ``x - x`` is a zero in the units of x (no undeclared literal)
    _check(fd.setMath(_parse("lambda(x, floor, piecewise(x - x, abs(x) < floor, x))")), "flush")
    note = (
        "x set to exactly zero when |x| < floor; every dose event applies it with floor "
        f"{_num(UNDERFLOW_FLOOR)} (umol, nM or fraction) to"
        " the PK species and u_fast/u_slow, so that days of drug-free decay "
        "(to 1e-160) do not leave states for which simulators that scale the absolute "
        "tolerance by the state's value (libRoadRunner) fail at the next dose"
    )
    _check(fd.setNotes(_notes_xhtml([note])), "notes of the flush function")


def _flushed(sid: str, unit: str) -> str:
    """``sid`` set to exactly zero when its magnitude is below :data:`UNDERFLOW_FLOOR`."""
    return f"{FLUSH_FUNCTION}({sid}, {_num(UNDERFLOW_FLOOR)} {unit})"


def _flush_targets(eq: _Equations) -> list[tuple[str, str]]:
    """(id, unit) of the states a dose event flushes: the PK species, ``u_fast``, ``u_slow``."""
    return [(sid, unit) for sid, _, unit, _ in eq.species] + [
        ("u_fast", "dimensionless"),
        ("u_slow", "dimensionless"),
    ]


def _per_dose_events(model: libsbml.Model, groups, prep: Prepared, eq: _Equations) -> None:
    """One SBML event per dose time: ``time >= t_k`` adds the dose to its state."""
    for k, (t, amounts) in enumerate(groups):
        ev = model.createEvent()
        ev.setId(f"dose_{k}")
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        _check(trig.setMath(_parse(f"time >= {_num(t)} hour", model)), f"trigger {k}")
        dosed = {pk_id(prep.pk.states[st]): terms for st, terms in amounts.items()}
        for sid, unit in _flush_targets(eq):
            ea = ev.createEventAssignment()
            ea.setVariable(sid)
            text = " + ".join([_flushed(sid, unit), *dosed.get(sid, [])])
            _check(ea.setMath(_parse(text, model)), f"dose {k} assignment of {sid}")


def _periodic_gaps(times: Sequence[float], max_period: int = MAX_GAP_PERIOD) -> list[float] | None:
    """The shortest cycle of intervals that repeats through ``times``, or None.

    Intervals agree to within 1e-9 h; q8h has the cycle ``[8.0]``, three doses
    spread over a 16 h waking day ``[5.33, 5.33, 13.33]``.
    """
    gaps = np.diff(np.asarray(times, dtype=float))
    for n in range(1, min(max_period, len(gaps)) + 1):
        cycle = gaps[:n]
        if np.all(np.abs(gaps - np.resize(cycle, len(gaps))) <= 1e-9):
            return [float(g) for g in cycle]
    return None


def _lookup(values: Sequence[str], index: str, lo: int = 0, hi: int | None = None) -> str:
    """``values[index]`` as a balanced tree of ``piecewise`` (depth log2 of the length)."""
    hi = len(values) if hi is None else hi
    if hi - lo == 1:
        return values[lo]
    if all(v == values[lo] for v in values[lo:hi]):
        return values[lo]
    mid = (lo + hi) // 2
    return (
        f"piecewise({_lookup(values, index, lo, mid)}, {index} < {mid}, "
        f"{_lookup(values, index, mid, hi)})"
    )


def _table_event(model: libsbml.Model, groups, prep: Prepared, eq: _Equations) -> None:
    """One re-arming event that walks the dose table.

    ``dose_index`` counts the doses given and ``next_dose_time`` holds the time
    of the next one; the event ``time >= next_dose_time`` adds the amounts of
    dose ``dose_index`` (looked up in a ``piecewise`` tree), increments the
    index and sets the next time. The number of events, and so the
    integrator's cost per step, does not grow with the number of doses.
    When the intervals between doses repeat in a short cycle (q8h; a day of
    habitual use), ``dose_phase`` walks that cycle and the next time is the
    current one plus the cycle's interval, so a ten-year schedule stays a few
    kilobytes (rounding moves a dose time by less than 1e-6 h).
    """
    n = len(groups)
    if n == 0:
        return
    cycle = _periodic_gaps([t for t, _ in groups]) if n > 2 else None
    counters = [("dose_index", 0.0, "dimensionless"), ("next_dose_time", groups[0][0], "hour")]
    if cycle is not None:
        counters.append(("dose_phase", 0.0, "dimensionless"))
    for pid, value, unit in counters:
        p = model.createParameter()
        p.setId(pid)
        p.setValue(float(value))
        p.setConstant(False)
        p.setUnits(unit)
    ev = model.createEvent()
    ev.setId("dose")
    ev.setUseValuesFromTriggerTime(True)
    trig = ev.createTrigger()
    trig.setInitialValue(False)
    trig.setPersistent(True)
    _check(trig.setMath(_parse("time >= next_dose_time")), "dose trigger")
    dosed = sorted({st for _, amounts in groups for st in amounts})
    table = {
        pk_id(prep.pk.states[st]): [" + ".join(g.get(st, ["0 umol"])) for _, g in groups]
        for st in dosed
    }
    for sid, unit in _flush_targets(eq):
        text = _flushed(sid, unit)
        if sid in table:
            text += f" + ({_lookup(table[sid], 'dose_index')})"
        ea = ev.createEventAssignment()
        ea.setVariable(sid)
        _check(ea.setMath(_parse(text, model)), f"dose table of {sid}")
    last = f"{_num(NO_MORE_DOSES_H)} hour"
    if cycle is None:
        times = [f"{_num(t)} hour" for t, _ in groups[1:]] + [last]
        text = _lookup(times, "dose_index")
    else:
        gaps = [f"{_num(g)} hour" for g in cycle]
        text = (
            f"piecewise({last}, dose_index >= {n - 1}, "
            f"next_dose_time + ({_lookup(gaps, 'dose_phase')}))"
        )
        ea = ev.createEventAssignment()
        ea.setVariable("dose_phase")
        _check(
            ea.setMath(_parse(f"piecewise(0, dose_phase >= {len(cycle) - 1}, dose_phase + 1)")),
            "dose phase",
        )
    ea = ev.createEventAssignment()
    ea.setVariable("next_dose_time")
    _check(ea.setMath(_parse(text, model)), "dose time table")
    ea = ev.createEventAssignment()
    ea.setVariable("dose_index")
    _check(ea.setMath(_parse("dose_index + 1")), "dose counter")
