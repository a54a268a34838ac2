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

This module assembles and writes the document (:func:`to_sbml`,
:func:`write_sbml`); the symbolic equations and SBML math are in
``engine.sbml_equations`` and the dose events in ``engine.sbml_events``
(public names re-exported here).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import libsbml
import numpy as np

from neuroadapt.atomic import write_text
from neuroadapt.engine.lifecourse import MAX_USES_PER_DAY, dose_schedule
from neuroadapt.engine.sbml_equations import (
    ANNOTATION_NS,
    AUTO_TABLE_THRESHOLD,
    MAX_GAP_PERIOD,
    MIN_VENTILATION,
    NO_MORE_DOSES_H,
    UNDERFLOW_FLOOR,
    SBMLExportError,
    _check,
    _Equations,
    _math,
    _notes_xhtml,
    _num,
    pk_id,
    to_l3_infix,
)
from neuroadapt.engine.sbml_events import (
    FLUSH_FUNCTION,
    _add_flush_function,
    _dose_groups,
    _per_dose_events,
    _table_event,
)
from neuroadapt.engine.simulate import prepare
from neuroadapt.model.dose import Dose
from neuroadapt.parameters import ParameterSet
from neuroadapt.scenarios.schema import Behaviour

__all__ = [
    "ANNOTATION_NS",
    "AUTO_TABLE_THRESHOLD",
    "FLUSH_FUNCTION",
    "MAX_GAP_PERIOD",
    "MIN_VENTILATION",
    "NO_MORE_DOSES_H",
    "UNDERFLOW_FLOOR",
    "SBMLExportError",
    "habitual_doses",
    "pk_id",
    "to_l3_infix",
    "to_sbml",
    "write_sbml",
]

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
