"""The model equations, symbolically, and their SBML Level 3 math (for ``engine.sbml``).

One job: build the engine's right-hand side as sympy expressions
(:class:`_Equations`) from the same model sources as the fast kernel, and
turn expressions into SBML L3 infix and libSBML ASTs (:func:`to_l3_infix`);
with the export's constants, ids and error type.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

import libsbml
import numpy as np
import sympy as sp

from neuroadapt.engine import kernel as K
from neuroadapt.engine.simulate import Prepared, baseline_pao2
from neuroadapt.model import receptor, respiration, signalling

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


def _notes_xhtml(paragraphs: Sequence[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'
