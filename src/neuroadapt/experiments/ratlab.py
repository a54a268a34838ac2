"""The virtual rat laboratory: protocols as data, run closed loop, written as lab files.

A protocol (TOML, shipped in ``experiments/protocols/`` or any file) names
groups of rats and, for each group, a sequence of phases. Every rat walks
its own phases day by day (a rat that meets the extinction criterion moves
on to its test while others are still extinguishing); each day the engine
(:class:`neuroadapt.engine.operant.OperantLab`) simulates every rat's
session and home cage from its own state, and the brain clock advances.

Phase kinds (keys beside ``kind``; defaults in :class:`Phase`):

==========================  =====================================================
``self_administration``     ``sessions``, ``hours``, ``ratio`` (FR), ``dose``
                            (mg/kg/infusion), ``timeout_s``, ``cue``; or a
                            within-session unit-dose schedule:
                            ``component_doses`` (mg/kg/infusion, in the order
                            given), ``component_min`` each, ``gap_min`` with the
                            levers retracted between components (the session
                            then lasts the components and gaps; ``hours`` and
                            ``dose`` are not used)
``progressive_ratio``       ``sessions``, ``hours``, ``dose`` (Richardson & Roberts)
``extinction``              ``sessions`` or ``until_criterion`` (+ ``max_sessions``,
                            ``fraction``, ``consecutive``, ``baseline_sessions``)
``abstinence``              ``days`` in the home cage (forced abstinence)
``cue_test``                extinction session with the response-contingent cue
``prime_test``              extinction session after ``prime_mg_kg`` of
                            ``prime_drug`` by ``prime_route``
``footshock_test``          extinction session after ``shock_min`` of
                            intermittent footshock (mean interval ``shock_interval_s``)
``naloxone_test``           a self-administration session, then naloxone
                            ``naloxone_mg_kg`` s.c.; peak withdrawal in the next hour
``cpp_pretest``,
``cpp_test``                free choice for ``minutes`` (``label``; optional prime)
``cpp_conditioning``        ``pairings`` drug/vehicle pairs on alternate days:
                            ``drug``, ``route``, ``dose`` (mg/kg), ``minutes``,
                            ``delay_min`` (drug given after placement),
                            ``antagonist_mg_kg`` (naloxone with the drug)
``cpp_extinction``          ``sessions`` drug-free confinements, alternating sides
==========================  =====================================================

Operant sessions carry MED-PC program names (``MSN``) of the ``neuroadapt-sa``
profile: ``neuroadapt_SA_FR<n>`` (``neuroadapt_SA_FR<n>_WSDR`` with a
within-session unit-dose schedule, whose components are written to arrays
I, J, K, L), ``neuroadapt_PR``, ``neuroadapt_EXT``,
``neuroadapt_REIN_<cue|prime|footshock>``, ``neuroadapt_SA_NLX``; the
analysis tells phases apart by them, as a lab's would.

The extinction criterion used to move a rat on is the one of
``neuroadapt.analysis.extinction`` (active presses at or below ``fraction``
of the mean of the last ``baseline_sessions`` self-administration sessions
in ``consecutive`` sessions); the tests check that the analysis of the
written files agrees.

The lab files themselves (MED-PC text, zone and CSV tables) are written by
``experiments.ratlab_files``; :func:`write_outputs` and
:func:`medpc_data_files` are re-exported here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from neuroadapt.engine.operant import (
    COUNTERS,
    MAX_COMPONENTS,
    ZONES,
    Component,
    DayResult,
    OperantLab,
    SessionDose,
    SessionSpec,
)
from neuroadapt.experiments.ratlab_files import (
    CPP_SIDES,
    LAYOUTS,
    medpc_data_files,
    write_outputs,
)
from neuroadapt.parameters import load_parameters
from neuroadapt.parameters.table import override_records

__all__ = [
    "LAYOUTS",
    "Group",
    "Phase",
    "Protocol",
    "ProtocolError",
    "RatLabResult",
    "list_protocols",
    "load_protocol",
    "medpc_data_files",
    "run_protocol",
    "write_outputs",
]

PhaseKind = Literal[
    "self_administration",
    "progressive_ratio",
    "extinction",
    "abstinence",
    "cue_test",
    "prime_test",
    "footshock_test",
    "naloxone_test",
    "cpp_pretest",
    "cpp_test",
    "cpp_conditioning",
    "cpp_extinction",
]
_OPERANT = {
    "self_administration",
    "progressive_ratio",
    "extinction",
    "cue_test",
    "prime_test",
    "footshock_test",
    "naloxone_test",
}


class ProtocolError(ValueError):
    """A protocol file is invalid; the message is one line naming the field."""


class Phase(BaseModel):
    """One phase of a group's protocol (see the module docstring for the kinds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PhaseKind
    label: str | None = None
    sessions: int = Field(1, ge=1, le=365)
    days: int = Field(0, ge=0, le=3650)
    hours: float = Field(2.0, gt=0, le=20)
    minutes: float = Field(15.0, gt=0, le=240)
    ratio: int = Field(1, ge=1, le=100)
    dose: float = Field(0.06, ge=0, le=20)
    timeout_s: float = Field(20.0, ge=0, le=600)
    cue: bool = True
    until_criterion: bool = False
    max_sessions: int = Field(30, ge=1, le=365)
    fraction: float = Field(0.25, gt=0, le=1)
    consecutive: int = Field(2, ge=1, le=10)
    baseline_sessions: int = Field(3, ge=1, le=10)
    prime_drug: Literal["heroin", "morphine"] = "heroin"
    prime_route: Literal["sc", "iv"] = "sc"
    prime_mg_kg: float = Field(0.0, ge=0, le=20)
    shock_min: float = Field(10.0, ge=0, le=60)
    shock_interval_s: float = Field(40.0, gt=0, le=600)
    naloxone_mg_kg: float = Field(1.0, ge=0, le=20)
    drug: Literal["heroin", "morphine"] = "morphine"
    route: Literal["sc", "iv"] = "sc"
    pairings: int = Field(4, ge=1, le=30)
    delay_min: float = Field(0.0, ge=0, le=240)
    antagonist_mg_kg: float = Field(0.0, ge=0, le=20)
    component_doses: list[float] = Field(default_factory=list, max_length=MAX_COMPONENTS)
    component_min: float = Field(30.0, gt=0, le=240)
    gap_min: float = Field(0.0, ge=0, le=120)

    @model_validator(mode="after")
    def _components(self) -> Phase:
        if self.component_doses and self.kind != "self_administration":
            raise ValueError("component_doses needs kind 'self_administration'")
        if any(d < 0 or d > 20 for d in self.component_doses):
            raise ValueError("component doses must be within 0-20 mg/kg/infusion")
        if self.component_doses and self.session_s() > 20 * 3600:
            raise ValueError("components and gaps last more than 20 h")
        return self

    def components(self) -> tuple[Component, ...]:
        """The within-session unit-dose schedule (empty: one dose for the session)."""
        step = (self.component_min + self.gap_min) * 60.0
        return tuple(
            Component(k * step, k * step + self.component_min * 60.0, d)
            for k, d in enumerate(self.component_doses)
        )

    def session_s(self) -> float:
        """Session length (s): ``hours``, or the components and the gaps between them."""
        n = len(self.component_doses)
        if n:
            return (n * self.component_min + (n - 1) * self.gap_min) * 60.0
        return self.hours * 3600.0


class Group(BaseModel):
    """A group of rats and its phases; ``weight`` sets its share of the animals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(1.0, gt=0)
    phases: list[Phase] = Field(min_length=1)


class Protocol(BaseModel):
    """A rat-lab experiment: groups, their phases, default size and seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    animals: int = Field(12, ge=1, le=100_000)
    seed: int = 1
    groups: list[Group] = Field(min_length=1)

    def pairs(self) -> list[tuple[str, str]]:
        """(drug, route) pairs the protocol doses besides self-administered IV heroin."""
        out = set()
        for g in self.groups:
            for p in g.phases:
                if p.kind in ("prime_test", "cpp_pretest", "cpp_test") and p.prime_mg_kg > 0:
                    out.add((p.prime_drug, p.prime_route))
                if p.kind == "naloxone_test":
                    out.add(("naloxone", "sc"))
                if p.kind == "cpp_conditioning":
                    out.add((p.drug, p.route))
                    if p.antagonist_mg_kg > 0:
                        out.add(("naloxone", p.route))
        return sorted(out)


def _protocol_dir():
    return resources.files("neuroadapt.experiments").joinpath("protocols")


def list_protocols() -> list[tuple[str, str]]:
    """Names and descriptions of the shipped protocols."""
    out = []
    for f in sorted(_protocol_dir().iterdir(), key=lambda f: f.name):
        if f.name.endswith(".toml"):
            p = _parse(f.read_text(encoding="utf-8"), f.name)
            out.append((p.name, p.description))
    return out


def _parse(text: str, where: str) -> Protocol:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"protocol {where}: not TOML ({exc})") from None
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ProtocolError(
            f"protocol {where}: field '{loc}' = {err.get('input')!r}: {err['msg']}"
        ) from None


def load_protocol(name: str | os.PathLike[str]) -> Protocol:
    """A shipped protocol by name, or a protocol TOML file.

    Raises
    ------
    ProtocolError
        Unknown name, unreadable file or an invalid field (one line).
    """
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return _parse(path.read_text(encoding="utf-8"), str(path))
    f = _protocol_dir().joinpath(f"{name}.toml")
    if not f.is_file():
        names = ", ".join(n for n, _ in list_protocols())
        raise ProtocolError(f"protocol '{name}': not a shipped protocol ({names}) nor a file")
    return _parse(f.read_text(encoding="utf-8"), f.name)


# --------------------------------------------------------------------------- running
@dataclass
class _Rat:
    group: int
    phase: int = 0
    k: int = 0  # sessions (or days) done in the phase
    done: bool = False


def _msn(p: Phase) -> str:
    if p.component_doses:
        return f"neuroadapt_SA_FR{p.ratio}_WSDR"
    return {
        "self_administration": f"neuroadapt_SA_FR{p.ratio}",
        "progressive_ratio": "neuroadapt_PR",
        "extinction": "neuroadapt_EXT",
        "cue_test": "neuroadapt_REIN_cue",
        "prime_test": "neuroadapt_REIN_prime",
        "footshock_test": "neuroadapt_REIN_footshock",
        "naloxone_test": "neuroadapt_SA_NLX",
    }.get(p.kind, "")


def _label(p: Phase) -> str:
    if p.component_doses and not p.label:
        doses = ", ".join(f"{1000 * d:g}" for d in p.component_doses)
        return f"FR{p.ratio} within-session {doses} ug/kg"
    default = {
        "self_administration": f"FR{p.ratio} {p.dose:g} mg/kg {p.hours:g} h",
        "progressive_ratio": f"PR {p.dose:g} mg/kg",
        "extinction": "extinction",
        "abstinence": "abstinence",
        "cue_test": "cue",
        "prime_test": f"prime {p.prime_mg_kg:g} mg/kg {p.prime_route}",
        "footshock_test": "footshock",
        "naloxone_test": "naloxone",
        "cpp_pretest": "pre",
        "cpp_test": "post",
        "cpp_conditioning": "conditioning",
        "cpp_extinction": "extinction",
    }[p.kind]
    return p.label or default


def _phase_name(p: Phase) -> str:
    """Phase names the analysis package expects."""
    if p.kind in ("cue_test", "prime_test", "footshock_test"):
        return "reinstatement"
    return p.kind


def _spec(p: Phase, k: int) -> SessionSpec:
    """The session of day ``k`` of phase ``p``."""
    base = dict(phase=_phase_name(p), unit_dose_mg_kg=p.dose, timeout_s=p.timeout_s)
    sess = p.session_s()
    if p.kind == "self_administration" and p.component_doses:
        base["unit_dose_mg_kg"] = p.component_doses[0]
        return SessionSpec(
            "operant", duration_s=sess, ratio=p.ratio, cue=p.cue, components=p.components(), **base
        )
    if p.kind == "self_administration":
        return SessionSpec("operant", duration_s=sess, ratio=p.ratio, cue=p.cue, **base)
    if p.kind == "progressive_ratio":
        return SessionSpec("operant", duration_s=sess, progressive=True, cue=p.cue, **base)
    if p.kind == "naloxone_test":
        nlx = SessionDose(sess, "naloxone", "sc", p.naloxone_mg_kg, "antagonist")
        return SessionSpec("operant", duration_s=sess, ratio=p.ratio, doses=(nlx,), **base)
    if p.kind in ("extinction", "cue_test", "prime_test", "footshock_test"):
        doses = ()
        if p.kind == "prime_test" and p.prime_mg_kg > 0:
            doses = (SessionDose(0.0, p.prime_drug, p.prime_route, p.prime_mg_kg, "prime"),)
        return SessionSpec(
            "operant",
            duration_s=sess,
            reinforced=False,
            cue=p.kind == "cue_test",
            footshock_min=p.shock_min if p.kind == "footshock_test" else 0.0,
            footshock_interval_s=p.shock_interval_s,
            doses=doses,
            **base,
        )
    if p.kind == "abstinence":
        return SessionSpec("home", phase="abstinence")
    if p.kind in ("cpp_pretest", "cpp_test"):
        doses = ()
        if p.prime_mg_kg > 0:
            doses = (SessionDose(0.0, p.prime_drug, p.prime_route, p.prime_mg_kg, "prime"),)
        return SessionSpec("cpp_test", phase=p.kind, duration_s=p.minutes * 60.0, doses=doses)
    if p.kind == "cpp_conditioning":
        drug_day = k % 2 == 0
        doses: tuple[SessionDose, ...] = ()
        if drug_day:
            t = p.delay_min * 60.0
            doses = (SessionDose(t, p.drug, p.route, p.dose, "conditioning"),)
            if p.antagonist_mg_kg > 0:
                doses += (SessionDose(t, "naloxone", p.route, p.antagonist_mg_kg, "conditioning"),)
        return SessionSpec(
            "cpp_confine",
            phase="cpp_conditioning",
            duration_s=p.minutes * 60.0,
            zone="drug" if drug_day else "vehicle",
            doses=doses,
        )
    if p.kind == "cpp_extinction":
        return SessionSpec(
            "cpp_confine",
            phase="cpp_extinction",
            duration_s=p.minutes * 60.0,
            zone="drug" if k % 2 == 0 else "vehicle",
        )
    raise AssertionError(p.kind)  # pragma: no cover


def _length(p: Phase) -> int:
    if p.kind == "abstinence":
        return p.days
    if p.kind == "cpp_conditioning":
        return 2 * p.pairings
    if p.kind == "cpp_extinction":
        return 2 * p.sessions
    if p.kind == "extinction" and p.until_criterion:
        return p.max_sessions
    return p.sessions


def criterion_met(active: list[float], baseline: list[float], p: Phase) -> bool:
    """Extinction criterion of ``neuroadapt.analysis.extinction`` for one rat's sessions."""
    base = baseline[-p.baseline_sessions :]
    if len(active) < p.consecutive or not base:
        return False
    threshold = p.fraction * float(np.mean(base))
    return all(a <= threshold for a in active[-p.consecutive :])


@dataclass
class RatLabResult:
    """What a protocol run produced: one row per rat and day, the day results, the design."""

    protocol: Protocol
    seed: int
    subjects: list[str]
    groups: list[str]
    sessions: pd.DataFrame
    days: list[DayResult]
    zone_side: list[str]
    #: ``--set`` overrides of the rat table (name -> value in the table's unit).
    parameter_overrides: dict[str, float] = field(default_factory=dict)

    def overrides(self) -> list[dict]:
        """The overrides with their units and the shipped values (empty without any)."""
        return override_records("rat", self.parameter_overrides)

    def parameters(self):
        """The rat parameter set the protocol ran with."""
        return load_parameters("rat").with_table_values(self.parameter_overrides)


def run_protocol(
    protocol: Protocol,
    animals: int | None = None,
    seed: int | None = None,
    variability: float = 1.0,
    progress: Callable[[int], None] | None = None,
    parameters: Mapping[str, float] | None = None,
) -> RatLabResult:
    """Run a protocol on virtual rats, each walking its own phases day by day.

    Parameters
    ----------
    protocol
        The protocol.
    animals
        Total rats (default the protocol's), shared among groups by weight
        (at least one per group).
    seed
        Seed (default the protocol's).
    variability
        Scale on inter-animal variability.
    progress
        Called with the number of days done.
    parameters
        Overrides of the rat parameter table by name, in the table's units and
        within its bounds (``--set``); :class:`~neuroadapt.parameters.ParameterError`
        otherwise.
    """
    overrides = dict(parameters or {})
    params = load_parameters("rat").with_table_values(overrides)
    n = int(animals or protocol.animals)
    if n < len(protocol.groups):
        raise ProtocolError(f"{n} animals for {len(protocol.groups)} groups: need one per group")
    seed = protocol.seed if seed is None else int(seed)
    w = np.array([g.weight for g in protocol.groups])
    share = np.maximum(1, np.floor(n * w / w.sum()).astype(int))
    while share.sum() < n:
        share[np.argmax(n * w / w.sum() - share)] += 1
    while share.sum() > n:
        share[np.argmax(share)] -= 1
    group_of = np.repeat(np.arange(len(share)), share)
    rats = [_Rat(int(g)) for g in group_of]
    lab = OperantLab(params, n, seed, variability, pairs=protocol.pairs())
    history: list[dict[str, list[float]]] = [{"sa": [], "ext": []} for _ in rats]
    rows: list[dict] = []

    def phase_of(r: _Rat) -> Phase | None:
        phases = protocol.groups[r.group].phases
        while r.phase < len(phases) and _length(phases[r.phase]) == 0:
            r.phase += 1
        return phases[r.phase] if r.phase < len(phases) else None

    def schedule(day: int, done: list[DayResult]) -> list[SessionSpec] | None:
        if done:
            last = done[-1]
            for i, r in enumerate(rats):
                p = phase_of(r)
                if p is None:
                    continue
                act = float(last.counters[i, 0])
                if p.kind == "self_administration":
                    history[i]["sa"].append(act)
                if p.kind == "extinction":
                    history[i]["ext"].append(act)
                r.k += 1
                finished = r.k >= _length(p)
                if p.kind == "extinction" and p.until_criterion:
                    finished |= criterion_met(history[i]["ext"], history[i]["sa"], p)
                if finished:
                    r.phase += 1
                    r.k = 0
                    history[i]["ext"] = [] if p.kind == "extinction" else history[i]["ext"]
        specs, active, today = [], False, []
        for r in rats:
            p = phase_of(r)
            today.append(p)
            if p is None:
                specs.append(SessionSpec("home", phase="done"))
            else:
                active = True
                specs.append(_spec(p, r.k))
        phase_log.append(today)
        return specs if active else None

    phase_log: list[list[Phase | None]] = []
    results = lab.run(schedule, progress)
    subjects = [f"R{i + 1:03d}" for i in range(n)]
    groups = [protocol.groups[g].name for g in group_of]
    for res in results:
        for i, spec in enumerate(res.specs):
            p = phase_log[res.day][i]
            row = {
                "subject": subjects[i],
                "group": groups[i],
                "day": res.day,
                "kind": spec.kind,
                "phase": spec.phase,
                "label": _label(p) if p is not None else "done",
                "msn": _msn(p) if p is not None and spec.kind == "operant" else "",
                "duration_s": spec.duration_s,
                "unit_dose_mg_kg": spec.unit_dose_mg_kg,
                "timeout_s": spec.timeout_s,
                "ratio": spec.ratio,
                "zone": spec.zone,
                "withdrawal_peak_naloxone": res.daily["antagonist_withdrawal_peak"][i],
                "tolerance_shift": res.daily["tolerance_shift"][i],
                "expectation": res.state["expectation"][i],
                "habit": res.state["habit"][i],
                "craving": res.brain["craving"][i],
                "set_point_shift": res.brain["set_point_shift"][i],
                "negative_affect": res.brain["negative_affect"][i],
            }
            row.update({c: res.counters[i, k] for k, c in enumerate(COUNTERS)})
            row.update({f"{z}_s": res.zone_s[i, k] for k, z in enumerate(ZONES)})
            rows.append(row)
    side = [CPP_SIDES[i % 2] for i in range(n)]
    return RatLabResult(
        protocol=protocol,
        seed=seed,
        subjects=subjects,
        groups=groups,
        sessions=pd.DataFrame(rows),
        days=results,
        zone_side=side,
        parameter_overrides=overrides,
    )
