"""SBML export of the model equations the engine integrates, for one subject.

The export is written from the same sources as the fast engine, so an
independent integrator (libRoadRunner, COPASI, tellurium) can check it:

- **Linear PK as species and reactions.** Every PK amount (micromol) is a
  species with ``hasOnlySubstanceUnits`` in a compartment (the volume of
  distribution of its drug, ``v_<drug>``, or ``depot`` for absorption
  depots). The columns of the subject's matrix returned by
  :func:`neuroadapt.model.pk.build_pk` (the matrix the engine diagonalises)
  become first-order mass-action reactions: a transfer ``src -> dst`` with
  rate ``A_<dst>__<src> * src`` for each off-diagonal entry between amounts,
  and a loss ``src -> `` with rate ``k_out_<src> * src`` for the rest of the
  diagonal (elimination, or metabolism to products the model does not carry).
  Effect-site concentrations (nM) are species in the ``effect_site``
  compartment with rate rules ``dCe/dt = A_e,c x_c + A_e,e Ce`` (the rows of
  the same matrix): the link model moves no mass out of blood.
- **Read-outs.** Receptor occupancy, activation, agonist occupancy, cAMP,
  ventilation, PaO2 and SpO2 are assignment rules obtained by *calling* the
  model functions (:mod:`neuroadapt.model.receptor`,
  :mod:`~neuroadapt.model.signalling`, :mod:`~neuroadapt.model.respiration`)
  with sympy symbols and converting the resulting expressions to SBML math.
  The arguments are wired exactly as the kernel wires them (its
  ``PARAM_NAMES`` layout: ``kernel.I_RHO`` is the respiratory-tolerance
  parameter, and so on), with the per-subject values from
  :func:`neuroadapt.engine.simulate.prepare`.
- **Slow states.** AC superactivation ``dU_f/dt = k_f((1 - phi) D(A) - U_f)``
  and ``dU_s/dt = k_s(phi D(A) - U_s)`` with ``D`` =
  :func:`~neuroadapt.model.signalling.superactivation_demand` (the ODE the
  kernel integrates exactly with exponential weights), and the arterial PO2
  lag ``dPaO2/dt = (PaO2_ss - PaO2)/tau_O2``; these are parameters with rate
  rules (dimensionless, mmHg).
- **Doses.** SBML events at each dose time add ``amount x dose_factor``
  (micromol; times body weight for mg/kg doses) to the dosing species, either
  as one event per dose time (``events="per_dose"``) or as one re-arming
  event that walks a dose table (``events="table"``); simulators slow down
  with the number of events in a model (libRoadRunner: 17.6 against 1.3 s
  per year of q8h dosing, docs/benchmarks.md), so ``"auto"`` switches to the
  table above 200 dose times. Simultaneous doses share one event.

Underflow and libRoadRunner
---------------------------
libRoadRunner (2.x) turns its scalar absolute tolerance into one per state,
``atol * |x|`` for every state that is not exactly zero, and recomputes it
whenever CVODE restarts, that is at every event. After days without drug
the fast PK states decay to 1e-40 .. 1e-160 (heroin, 6-MAM and their effect
sites; morphine and M6G also cross zero by -1e-39, below any tolerance);
at the next dose these states then get absolute tolerances near 1e-170
while they jump by a factor 1e160, CVODE needs steps below t * 2e-16
(``t + h = t``) and stops with ``CV_CONV_FAILURE`` (the shipped
tolerance-and-abstinence scenario at t = 1440 h, default and tight
tolerances). Every dose event therefore first sets each PK species and
``u_fast``/``u_slow`` whose magnitude is below :data:`UNDERFLOW_FLOOR`
(1e-20 micromol, nM or fraction, about 10^4 molecules: nothing any read-out
can see) to exactly zero, for which libRoadRunner keeps the plain absolute
tolerance. Plain ``roadrunner.RoadRunner(file).simulate(...)`` then works at
default settings; COPASI is unaffected either way. Parameter values are
written by libsbml with 15 significant digits. PK species are named
``pk_<state>`` as in the engine's dense output; time is in hours.

What the export does not contain (engine-only): the cardiac-arrest rule
(death when PaO2 stays below ``pao2_arrest`` for ``arrest_delay``), overdose
episode bookkeeping, hypoxia minutes, naloxone rescue, bin aggregates
(peaks, means), the decisions of the behaviour model (see
:func:`habitual_doses`) and the clipping of negative effect-site
concentrations to zero. Infusions (``duration_h > 0``) are not exported yet.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import libsbml
import numpy as np
import sympy as sp

from neuroadapt.atomic import write_text
from neuroadapt.engine import kernel as K
from neuroadapt.engine.lifecourse import MAX_USES_PER_DAY, dose_schedule
from neuroadapt.engine.simulate import Dose, Prepared, baseline_pao2, prepare
from neuroadapt.model import receptor, respiration, signalling
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios.schema import Behaviour

#: Namespace of the provenance annotation.
ANNOTATION_NS = "https://neuroadapt.org/sbml/provenance"
#: Dose times above which ``events="auto"`` writes one table-driven event.
AUTO_TABLE_THRESHOLD = 200
#: ``next_dose_time`` after the last dose (h).
NO_MORE_DOSES_H = 1e12
#: Lower bound the kernel puts on relative ventilation before computing PaO2.
MIN_VENTILATION = 1e-9
#: Magnitude (umol, nM or dimensionless) below which a dose event sets a state to zero.
UNDERFLOW_FLOOR = 1e-20
#: Longest cycle of dose intervals the table event walks instead of a time table.
MAX_GAP_PERIOD = 24

_UNITS: dict[str, list[tuple[int, int, int, float]]] = {
    # id: [(kind, exponent, scale, multiplier)]
    "hour": [(libsbml.UNIT_KIND_SECOND, 1, 0, 3600.0)],
    "per_hour": [(libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0)],
    "umol": [(libsbml.UNIT_KIND_MOLE, 1, -6, 1.0)],
    "nmol": [(libsbml.UNIT_KIND_MOLE, 1, -9, 1.0)],
    "nM": [(libsbml.UNIT_KIND_MOLE, 1, -9, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)],
    "mmHg": [
        (libsbml.UNIT_KIND_KILOGRAM, 1, 0, 1.0),
        (libsbml.UNIT_KIND_METRE, -1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -2, 0, 1.0),
        (libsbml.UNIT_KIND_DIMENSIONLESS, 1, 0, 133.322387415),
    ],
    "mmHg2": [
        (libsbml.UNIT_KIND_KILOGRAM, 2, 0, 1.0),
        (libsbml.UNIT_KIND_METRE, -2, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -4, 0, 1.0),
        (libsbml.UNIT_KIND_DIMENSIONLESS, 1, 0, 133.322387415**2),
    ],
    "mmHg3": [
        (libsbml.UNIT_KIND_KILOGRAM, 3, 0, 1.0),
        (libsbml.UNIT_KIND_METRE, -3, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -6, 0, 1.0),
        (libsbml.UNIT_KIND_DIMENSIONLESS, 1, 0, 133.322387415**3),
    ],
    "kg": [(libsbml.UNIT_KIND_KILOGRAM, 1, 0, 1.0)],
    "mg": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0)],
    "mg_per_kg": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0)],
    "nM_per_umol_per_hour": [
        (libsbml.UNIT_KIND_LITRE, -1, 3, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, 3600.0),
    ],
    "umol_per_mg": [(libsbml.UNIT_KIND_MOLE, 1, -6, 1.0), (libsbml.UNIT_KIND_GRAM, -1, -3, 1.0)],
}

#: Units of the read-outs that are not dimensionless.
_RULE_UNITS = {"paco2": "mmHg", "pao2_ss": "mmHg"}


class SBMLExportError(RuntimeError):
    """libsbml refused an element of the model (a bug in the exporter)."""


def pk_id(state: str) -> str:
    """SBML id of a PK state (``"6mam_brain"`` -> ``"pk_6mam_brain"``)."""
    return f"pk_{state}"


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(
            f"libsbml failed on {what}: {libsbml.OperationReturnValue_toString(code)}"
        )


# --- sympy -> SBML L3 infix ---------------------------------------------------


def _num(x: float) -> str:
    s = repr(float(x))
    if s in ("inf", "-inf", "nan"):
        raise SBMLExportError(f"non-finite number {s} in an equation")
    return f"({s})" if s.startswith("-") else s


def to_l3_infix(expr: sp.Expr) -> str:
    """Render a sympy expression in libsbml's L3 infix syntax, fully parenthesised.

    Supports symbols, numbers, ``+``, ``*``, powers (``pow``, ``sqrt``),
    ``Abs`` (``abs``), ``Max``/``Min`` (``max``/``min``), ``exp`` and ``log``:
    the operations the model's read-out functions use.
    """
    e = expr
    if e.is_Symbol:
        return e.name
    if e.is_Integer:
        return _num(int(e))
    if e.is_Rational:
        return f"({int(e.p)}/{int(e.q)})"
    if e.is_Number:
        return _num(float(e))
    if e is sp.E:
        return "exponentiale"
    if e.is_Add:
        return "(" + " + ".join(to_l3_infix(a) for a in e.args) + ")"
    if e.is_Mul:
        return "(" + " * ".join(to_l3_infix(a) for a in e.args) + ")"
    if e.is_Pow:
        base, ex = e.args
        if ex == -1:
            return f"(1 / {to_l3_infix(base)})"
        if ex == sp.Rational(1, 2):
            return f"sqrt({to_l3_infix(base)})"
        return f"pow({to_l3_infix(base)}, {to_l3_infix(ex)})"
    if isinstance(e, sp.Abs):
        return f"abs({to_l3_infix(e.args[0])})"
    if isinstance(e, sp.Max | sp.Min):
        name = "max" if isinstance(e, sp.Max) else "min"
        return f"{name}(" + ", ".join(to_l3_infix(a) for a in e.args) + ")"
    if isinstance(e, sp.exp):
        return f"exp({to_l3_infix(e.args[0])})"
    if isinstance(e, sp.log):
        return f"ln({to_l3_infix(e.args[0])})"
    raise SBMLExportError(f"cannot export sympy node {type(e).__name__}: {e}")


def _parse(text: str, model: libsbml.Model | None = None) -> libsbml.ASTNode:
    if model is None:
        ast = libsbml.parseL3Formula(text)
    else:  # model-aware parsing: units on literals ("20.0 mg")
        settings = libsbml.L3ParserSettings()
        settings.setModel(model)
        ast = libsbml.parseL3FormulaWithSettings(text, settings)
    if ast is None:
        raise SBMLExportError(f"libsbml could not parse '{text}': {libsbml.getLastParseL3Error()}")
    return ast


def _math(expr: sp.Expr) -> libsbml.ASTNode:
    return _parse(to_l3_infix(sp.sympify(expr)))


# --- the equations, symbolically ------------------------------------------------


class _Equations:
    """The model of one subject as sympy expressions, in SBML declaration order."""

    def __init__(self, prep: Prepared):
        self.prep = prep
        self.pk = prep.pk
        self.values: dict[str, float] = {}  # constant parameter id -> value
        self.units: dict[str, str] = {}  # id -> unit id
        self.notes: dict[str, str] = {}  # id -> description
        self.assignments: list[tuple[str, sp.Expr, str]] = []  # (id, expr, description)
        self.rates: list[tuple[str, sp.Expr]] = []  # (state id, d/dt)
        # parameters with rate rules: (id, initial, unit, description)
        self.states: list[tuple[str, float, str, str]] = []
        self.species: list[tuple[str, str, str, str]] = []  # (id, compartment, unit, note)
        # (id, name, reactant, product or None, rate in umol/h)
        self.reactions: list[tuple[str, str, str, str | None, sp.Expr]] = []
        self._build()

    def const(
        self, name: str, value: float, unit: str = "dimensionless", note: str = ""
    ) -> sp.Symbol:
        self.values[name] = float(value)
        self.units[name] = unit
        if note:
            self.notes[name] = note
        return sp.Symbol(name)

    def rule(self, name: str, expr, note: str) -> sp.Symbol:
        self.assignments.append((name, sp.sympify(expr), note))
        return sp.Symbol(name)

    def _build(self) -> None:
        prep, pk = self.prep, self.pk
        a = pk.matrix[0]
        x = [sp.Symbol(pk_id(s)) for s in pk.states]
        # --- linear PK from the columns and rows of the engine's matrix -------------
        central = {i: name for name, i in pk.central_state.items()}
        flow_label = {(src, dst): label for src, dst, label in pk.flows}
        amount = [u == "umol" for u in pk.units]
        for i, st in enumerate(pk.states):
            if amount[i]:
                comp = f"v_{central[i]}" if i in central else "depot"
                self.species.append((pk_id(st), comp, "umol", f"amount of {st} (umol)"))
            elif pk.units[i] == "nM":
                self.species.append(
                    (pk_id(st), "effect_site", "nM", f"effect-site concentration {st} (nM)")
                )
            else:  # pragma: no cover - build_pk has only these two units
                raise SBMLExportError(f"PK state {st} has unit {pk.units[i]}")
        for j, src in enumerate(pk.states):
            if not amount[j]:
                continue
            out = 0.0
            for i in np.flatnonzero(a[:, j]):
                if i == j or not amount[i]:
                    continue
                dst = pk.states[i]
                k = self.const(
                    f"A_{dst}__{src}",
                    a[i, j],
                    "per_hour",
                    f"PK matrix entry d({dst})/dt per unit of {src}, 1/h",
                )
                out += a[i, j]
                label = flow_label.get((src, dst), "transfer")
                self.reactions.append(
                    (f"r_{src}__{dst}", f"{label} {src} -> {dst}", pk_id(src), pk_id(dst), k * x[j])
                )
            loss = -a[j, j]
            rest = loss - out
            if abs(rest) > 1e-12 * abs(loss):
                label = flow_label.get((src, ""), "elimination or metabolism to other products")
                k = self.const(
                    f"k_out_{src}",
                    rest,
                    "per_hour",
                    f"first-order loss of {src} not into another exported state, 1/h "
                    f"(-A_{src}__{src} minus the transfers out of {src})",
                )
                self.reactions.append(
                    (f"r_{src}__out", f"{label} of {src}", pk_id(src), None, k * x[j])
                )
        for i, st in enumerate(pk.states):
            if amount[i]:
                continue
            terms = []
            for j in np.flatnonzero(a[i]):
                src = pk.states[j]
                coef = self.const(
                    f"A_{st}__{src}",
                    a[i, j],
                    "per_hour" if pk.units[i] == pk.units[j] else "nM_per_umol_per_hour",
                    f"PK matrix entry d({st})/dt per unit of {src}, 1/h"
                    + ("" if pk.units[i] == pk.units[j] else " (nM per umol)"),
                )
                terms.append(coef * x[j])
            self.rates.append((pk_id(st), sp.Add(*terms)))
        # --- receptor: competitive occupancy, operational activation, CAR --------
        kd_m = self.const("kd_morphine", prep.samples["kd_morphine"][0], "nM")
        odds, tau_odds, eps_odds = [], [], []
        for li, lig in enumerate(prep.ligands):
            conc = x[pk.effect_state[lig]]
            if lig == "morphine":
                kd = kd_m
            else:
                kd = kd_m * self.const(
                    f"affinity_ratio_{lig}", prep.samples[f"affinity_ratio_{lig}"][0]
                )
            tau = self.const(
                f"efficacy_{lig}",
                prep.tau[0, li],
                note="operational efficacy (0 where the table has none)",
            )
            eps = self.const(
                f"intrinsic_activity_{lig}",
                prep.eps[0, li],
                note="intrinsic activity in CAR (0 where the table has none)",
            )
            o = self.rule(
                f"odds_{lig}", receptor.occupancy_odds(conc, kd), f"binding odds C/K of {lig}"
            )
            odds.append(o)
            tau_odds.append(tau * o)
            eps_odds.append(eps * o)
        odds_sum = self.rule("odds_sum", sp.Add(*odds), "sum of binding odds")
        w_sum = self.rule("weighted_odds_sum", sp.Add(*tau_odds), "efficacy-weighted odds")
        e_sum = self.rule(
            "intrinsic_odds_sum", sp.Add(*eps_odds), "intrinsic-activity-weighted odds"
        )
        self.rule(
            "total_occupancy", receptor.total_occupancy(odds_sum), "MOR occupancy by any ligand"
        )
        sigma = self.rule("stimulus", receptor.stimulus(w_sum, odds_sum), "operational stimulus")
        act = self.rule("activation", receptor.activation(sigma), "MOR activation A")
        car = self.rule(
            "agonist_occupancy",
            receptor.agonist_occupancy(e_sum, odds_sum),
            "agonist occupancy CAR",
        )
        # --- kernel scalar parameters (same layout and values as the engine) -----
        pv = prep.pvec[0]
        kp = {}
        for idx, name in enumerate(K.PARAM_NAMES):
            kp[idx] = sp.Symbol(name)
            self.values[name] = float(pv[idx])
        imax, gain, kf, ks, phi = kp[K.I_IMAX], kp[K.I_GAIN], kp[K.I_KF], kp[K.I_KS], kp[K.I_PHI]
        # --- signalling -------------------------------------------------------------
        uf, us, pao2 = sp.Symbol("u_fast"), sp.Symbol("u_slow"), sp.Symbol("pao2")
        demand = self.rule(
            "demand",
            signalling.superactivation_demand(act, imax, gain),
            "steady-state AC superactivation demanded by A",
        )
        u = self.rule("u_total", uf + us, "AC superactivation U = U_fast + U_slow")
        camp = self.rule("camp", signalling.camp_level(act, u, imax), "cAMP relative to naive")
        self.rule("opioid_effect", signalling.opioid_effect(camp, imax), "net opioid effect")
        self.rule(
            "withdrawal", signalling.withdrawal_index(camp, kp[K.I_WSCALE]), "withdrawal index"
        )
        # --- respiration -----------------------------------------------------------
        a_r = self.rule(
            "respiratory_activation",
            respiration.respiratory_activation(car, u, kp[K.I_RHO]),
            "agonist occupancy seen by the respiratory network",
        )
        vent = self.rule(
            "ventilation",
            respiration.relative_ventilation(a_r, kp[K.I_WAKE], kp[K.I_S], kp[K.I_PW], kp[K.I_PC]),
            "relative alveolar ventilation",
        )
        v_safe = sp.Max(vent, MIN_VENTILATION)  # the kernel's guard in ``_resp``
        # hypoxic respiratory depression, respiration eq. (10) (no rescuer in SBML)
        v_safe = self.rule(
            "ventilation_hd",
            sp.Max(v_safe * sp.Min(1, pao2 / kp[K.I_PHD]), MIN_VENTILATION),
            "relative ventilation after hypoxic respiratory depression",
        )
        self.rule("paco2", respiration.paco2(v_safe, kp[K.I_PACO2]), "arterial PCO2 (mmHg)")
        po2_ss = self.rule(
            "pao2_ss",
            respiration.pao2_steady(
                v_safe,
                kp[K.I_PACO2],
                kp[K.I_FIO2],
                kp[K.I_PB],
                kp[K.I_PH2O],
                kp[K.I_RQ],
                kp[K.I_AA],
            ),
            "quasi-steady arterial PO2 (mmHg)",
        )
        self.rule("spo2", respiration.spo2(pao2, kp[K.I_SEVA], kp[K.I_SEVB]), "SpO2 (fraction)")
        # --- slow states ------------------------------------------------------------
        self.states.append(("u_fast", 0.0, "dimensionless", "fast AC superactivation"))
        self.states.append(("u_slow", 0.0, "dimensionless", "slow AC superactivation"))
        p0 = float(baseline_pao2({k: val[:1] for k, val in prep.samples.items()})[0])
        self.states.append(("pao2", p0, "mmHg", "arterial PO2 (mmHg)"))
        self.rates.append(("u_fast", kf * ((1 - phi) * demand - uf)))
        self.rates.append(("u_slow", ks * (phi * demand - us)))
        self.rates.append(("pao2", (po2_ss - pao2) / kp[K.I_TAUO2]))
        # keep only the kernel parameters the equations use
        used = set()
        for _, e, _ in self.assignments:
            used |= {s.name for s in e.free_symbols}
        for _, e in self.rates:
            used |= {s.name for s in e.free_symbols}
        for *_, e in self.reactions:
            used |= {s.name for s in e.free_symbols}
        for name in K.PARAM_NAMES:
            if name not in used:
                self.values.pop(name, None)


_KERNEL_DERIVED = {
    "k_ac_fast": ("per_hour", "ln 2 / t_half_ac_fast"),
    "k_ac_slow": ("per_hour", "ln 2 / t_half_ac_slow"),
    "tau_o2": ("hour", "tau_o2 in hours"),
}


def _param_note(params: ParameterSet, name: str, eq: _Equations) -> str:
    if name in eq.notes:
        base = eq.notes[name]
    elif name in _KERNEL_DERIVED:
        base = _KERNEL_DERIVED[name][1]
    else:
        base = ""
    if name in params:
        p = params.params[name]
        return f"{p.description} [{p.internal_unit}]. Source: {p.source}"
    src = name.replace("k_ac_fast", "t_half_ac_fast").replace("k_ac_slow", "t_half_ac_slow")
    if src in params:
        p = params.params[src]
        return f"{base}. Source: {p.source}"
    return base


def _notes_xhtml(paragraphs: Sequence[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


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


#: Id of the SBML function that sets a state below the floor to zero.
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


def to_sbml(
    params: ParameterSet,
    doses: Sequence[Dose],
    subject: int = 0,
    seed: int = 0,
    variability: float = 0.0,
    events: str = "auto",
) -> str:
    """Export the model of one subject under a dose schedule as SBML Level 3 Version 2.

    Parameters
    ----------
    params
        Parameter set of the species.
    doses
        Bolus dose events (time in h, amount in mg or mg/kg). The PK states
        are those :func:`~neuroadapt.model.pk.build_pk` creates for the
        (drug, route) pairs of these doses, as in
        :func:`~neuroadapt.engine.simulate.simulate`.
    subject
        Global index of the subject whose sampled parameters are exported.
    seed
        Seed of the per-subject parameter draws (as in ``simulate``).
    variability
        Scale on inter-individual variability (0: the typical subject).
    events
        How doses are encoded: ``"per_dose"`` (one event per dose time,
        ``time >= t_k``), ``"table"`` (one re-arming event walking a dose
        table, for long regimens: simulators slow down with the number of
        events) or ``"auto"`` (per dose up to ``AUTO_TABLE_THRESHOLD`` dose
        times, a table beyond).

    Returns
    -------
    str
        The SBML document.

    Raises
    ------
    NotImplementedError
        For infusions (``duration_h > 0``).
    ValueError
        For an empty schedule, a negative dose time, an unknown dose unit or a
        (drug, route) pair the PK model lacks.

    Notes
    -----
    The cardiac-arrest rule, overdose-episode and hypoxia bookkeeping, and
    naloxone rescue are engine-only (see the module docstring): an SBML
    subject never dies, so compare with the engine only while the engine's
    subject is alive.
    """
    doses = sorted(doses, key=lambda d: d.time_h)
    if not doses:
        raise ValueError(
            "to_sbml needs at least one dose: the PK states are those of the dosed drugs"
        )
    for d in doses:
        if d.duration_h > 0:
            raise NotImplementedError(
                f"infusion at t={d.time_h} h (duration {d.duration_h} h): the SBML export "
                "supports bolus doses only"
            )
        if d.time_h < 0:
            raise ValueError(f"dose time {d.time_h} h is negative")
    pairs = sorted({(d.drug, d.route) for d in doses})
    prep = prepare(params, pairs, np.array([subject], dtype=np.int64), seed, variability)
    eq = _Equations(prep)
    for k, pair in enumerate(pairs):
        eq.const(
            f"dose_factor_{pair[0]}_{pair[1]}",
            prep.dose_factor[0, k],
            "umol_per_mg",
            f"micromol entering {prep.pk.states[prep.pk.dose_state[pair]]} per mg of "
            f"{pair[0]} {pair[1]} (bioavailability x molar conversion)",
        )
    if any(d.unit == "mg/kg" for d in doses):
        eq.const("body_weight", prep.samples["body_weight"][0], "kg")
    groups = _dose_groups(doses, prep)

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(model.setId(f"neuroadapt_{params.species}_subject{subject}"), "model id")
    model.setName(f"neuroadapt {params.species} subject {subject}: PK, MOR, AC, respiration")
    for uid, parts in _UNITS.items():
        ud = model.createUnitDefinition()
        ud.setId(uid)
        for kind, expo, scale, mult in parts:
            unit = ud.createUnit()
            unit.setKind(kind)
            unit.setExponent(expo)
            unit.setScale(scale)
            unit.setMultiplier(mult)
    model.setTimeUnits("hour")
    model.setSubstanceUnits("umol")
    model.setExtentUnits("umol")

    def add_param(pid: str, value: float, constant: bool, unit: str, note: str) -> None:
        p = model.createParameter()
        _check(p.setId(pid), f"parameter id {pid}")
        p.setValue(float(value))
        p.setConstant(constant)
        if unit in _UNITS or unit == "dimensionless":
            p.setUnits(unit)
        if note:
            _check(p.setNotes(_notes_xhtml([note])), f"notes of {pid}")

    compartments = {c for _, c, _, _ in eq.species}
    for cid in sorted(compartments):
        comp = model.createCompartment()
        _check(comp.setId(cid), f"compartment {cid}")
        comp.setSpatialDimensions(3)
        comp.setConstant(True)
        comp.setUnits("litre")
        if cid.startswith("v_"):
            name = cid[2:]
            comp.setSize(float(prep.pk.volume[name][0]))
            note = (
                f"volume of distribution of {name} (L). Its species are amounts "
                "(hasOnlySubstanceUnits), so the size enters no equation; the effect-site "
                "rates carry 1/V in their A entries"
            )
        elif cid == "depot":
            comp.setSize(1.0)
            note = "absorption depots (gut, mucosa, muscle); amounts, the size enters no equation"
        else:
            comp.setSize(1.0)
            note = (
                "brain effect sites (hypothetical link compartments, no mass taken from blood); "
                "their species are plasma-equivalent concentrations in nM"
            )
        _check(comp.setNotes(_notes_xhtml([note])), f"notes of {cid}")
    for sid, cid, unit, note in eq.species:
        sp_ = model.createSpecies()
        _check(sp_.setId(sid), f"species {sid}")
        sp_.setCompartment(cid)
        sp_.setBoundaryCondition(False)
        sp_.setConstant(False)
        if unit == "umol":
            sp_.setHasOnlySubstanceUnits(True)
            sp_.setSubstanceUnits("umol")
            sp_.setInitialAmount(0.0)
        else:
            sp_.setHasOnlySubstanceUnits(False)
            sp_.setSubstanceUnits("nmol")
            sp_.setInitialConcentration(0.0)
        _check(sp_.setNotes(_notes_xhtml([note])), f"notes of {sid}")
    for pid, init, unit, note in eq.states:
        add_param(pid, init, False, unit, note)
    for pid, val in eq.values.items():
        unit = eq.units.get(pid) or _KERNEL_DERIVED.get(pid, ("",))[0]
        if not unit and pid in params:
            unit = {
                "dimensionless": "dimensionless",
                "mmHg": "mmHg",
                "nM": "nM",
                "kg": "kg",
                "h": "hour",
                "1/h": "per_hour",
                "mmHg**2": "mmHg2",
                "mmHg**3": "mmHg3",
            }.get(params.params[pid].internal_unit, "")
        add_param(pid, val, True, unit, _param_note(params, pid, eq))
    for pid, _, note in eq.assignments:
        add_param(pid, math.nan, False, _RULE_UNITS.get(pid, "dimensionless"), note)

    for pid, expr, _ in eq.assignments:
        r = model.createAssignmentRule()
        _check(r.setVariable(pid), f"rule {pid}")
        _check(r.setMath(_math(expr)), f"math of {pid}")
    for rid, name, src, dst, expr in eq.reactions:
        rx = model.createReaction()
        _check(rx.setId(rid), f"reaction {rid}")
        rx.setName(name)
        # a negative loss constant (sampled fractions summing above 1) makes a net source
        rx.setReversible(any(eq.values.get(str(v), 0.0) < 0 for v in expr.free_symbols))
        ref = rx.createReactant()
        ref.setSpecies(src)
        ref.setStoichiometry(1.0)
        ref.setConstant(True)
        if dst is not None:
            ref = rx.createProduct()
            ref.setSpecies(dst)
            ref.setStoichiometry(1.0)
            ref.setConstant(True)
        law = rx.createKineticLaw()
        _check(law.setMath(_math(expr)), f"kinetic law of {rid}")
    for pid, expr in eq.rates:
        r = model.createRateRule()
        _check(r.setVariable(pid), f"rate rule {pid}")
        _check(r.setMath(_math(expr)), f"math of d{pid}/dt")

    _add_flush_function(model)
    style = events
    if style == "auto":
        style = "per_dose" if len(groups) <= AUTO_TABLE_THRESHOLD else "table"
    if style == "per_dose":
        _per_dose_events(model, groups, prep, eq)
    elif style == "table":
        _table_event(model, groups, prep, eq)
    else:
        raise ValueError(f"events='{events}' is not 'auto', 'per_dose' or 'table'")

    notes = [
        f"neuroadapt model of one {params.species} subject (global index {subject}, seed {seed}, "
        f"variability {variability}); parameter set hash {params.hash()}.",
        "Generated by neuroadapt.engine.sbml from the same sources as the fast engine: PK "
        "amounts are species linked by first-order reactions from the columns of "
        "model.pk.build_pk's matrix, effect sites concentration species with rate rules from its "
        "rows; read-outs by calling the functions of model.receptor, model.signalling and "
        "model.respiration with sympy symbols.",
        "Units: time h, PK amounts umol, effect sites nM, PaO2 and PaCO2 mmHg.",
        "Engine-only, not exported: the cardiac-arrest rule (PaO2 below pao2_arrest for "
        "arrest_delay), overdose episodes, hypoxia minutes, naloxone rescue, infusions.",
        f"Doses: {len(doses)} bolus doses at {len(groups)} distinct times, drugs/routes: "
        + ", ".join(f"{d}/{r}" for d, r in pairs)
        + f"; encoded as {style} events. Each dose event first sets the PK species and "
        f"u_fast/u_slow below {_num(UNDERFLOW_FLOOR)} to zero (flush_underflow).",
        "Parameter sources are in each parameter's notes.",
    ]
    _check(model.setNotes(_notes_xhtml(notes)), "model notes")
    ann = (
        f'<neuroadapt:provenance xmlns:neuroadapt="{ANNOTATION_NS}" '
        f'parameterHash="{params.hash()}" species="{escape(params.species)}" '
        f'subject="{int(subject)}" seed="{int(seed)}" variability="{float(variability)!r}"/>'
    )
    _check(model.setAnnotation(ann), "model annotation")
    return libsbml.writeSBMLToString(doc)


def habitual_doses(params: ParameterSet, behaviour: Behaviour) -> list[Dose]:
    """The typical person's habitual use under a ``[behaviour]`` scenario, as bolus doses.

    A life-course scenario has no fixed regimen: the people decide their own
    use (:mod:`neuroadapt.model.behaviour`). Its SBML export uses the typical
    person's habit through the whole use phase: ``start_dose_mg`` by the
    scenario's route, ``uses_per_day`` doses a day spread over
    ``waking_hours`` from ``first_use_hour`` (typical values of the parameter
    table, times as the life-course engine places them), for ``use`` days.
    Titration to tolerance, purity variation, lapses, relapses, the detox arm
    and rescue are decisions of the engine that SBML does not express.

    Parameters
    ----------
    params
        Parameter set of the scenario's species.
    behaviour
        The scenario's ``[behaviour]`` table.

    Returns
    -------
    list of Dose
        Doses of heroin, in time order.
    """
    typical = params.values()
    n_use = int(np.clip(np.rint(typical["uses_per_day"]), 1, MAX_USES_PER_DAY))
    use_days, _, _ = behaviour.days()
    _, _, times, *_ = dose_schedule(
        np.array([n_use]),
        use_days,
        np.array([typical["first_use_hour"]]),
        np.array([typical["waking_hours"]]),
    )
    return [Dose(float(t), "heroin", behaviour.route, behaviour.start_dose_mg) for t in times]


def write_sbml(
    path: str | os.PathLike,
    params: ParameterSet,
    doses: Sequence[Dose],
    subject: int = 0,
    seed: int = 0,
    variability: float = 0.0,
    events: str = "auto",
) -> Path:
    """Write :func:`to_sbml` to ``path`` atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    path
        Destination file.
    params, doses, subject, seed, variability, events
        As in :func:`to_sbml`.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    text = to_sbml(
        params, doses, subject=subject, seed=seed, variability=variability, events=events
    )
    return write_text(path, text)
