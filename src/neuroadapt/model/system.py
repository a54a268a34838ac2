"""The model registry: every module in order, its states, inputs, outputs and parameters.

This is the model's structure as data, and the one list of its modules.
Each module file in ``neuroadapt.model`` declares ``NAME``, ``STATES``,
``INPUTS``, ``OUTPUTS`` and ``PARAMETERS`` (name -> unit of the parameter
table, checked against the table by tests/test_registry.py); the fast ones
also declare ``DAILY``, the daily records the kernel keeps for the slow
clock. :data:`MODULES` lists them in order: the fast layer (advanced by the
kernel at minute resolution) and the brain modules (advanced day by day by
``engine.brain``, in dependency order). The engine takes its brain modules
from :data:`BRAIN_MODULES` and the daily drivers from :data:`DRIVERS`; the
report draws the structure diagram from :data:`MODULES` and
:data:`COUPLINGS`, which are derived here from what each module reads and
writes.

Adding a brain module means one model file (with the declarations above, a
``step`` and an ``observe``), one parameter file
(``parameters/table_<name>.csv``) and its target rows; its place in
:data:`BRAIN_MODULES` below is the only edit elsewhere (docs/model.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from neuroadapt.model import (
    affect,
    cognition,
    dopamine,
    glutamate,
    inflammation,
    pk,
    receptor,
    respiration,
    signalling,
    structure,
    tolerance,
    white_matter,
)


@dataclass(frozen=True)
class Module:
    """One scale of the model, as the registry lists it."""

    name: str
    title: str
    states: tuple[str, ...]
    outputs: tuple[str, ...]
    doc: str
    kind: str = "fast"
    inputs: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)
    module: ModuleType | None = None

    @classmethod
    def of(cls, mod: ModuleType, kind: str) -> Module:
        """The registry entry of a module file that declares NAME, STATES, INPUTS, OUTPUTS."""
        outputs = (*mod.OUTPUTS, *getattr(mod, "DAILY", {}))
        return cls(
            name=mod.NAME,
            title=getattr(mod, "TITLE", mod.NAME.replace("_", " ")),
            states=tuple(mod.STATES),
            outputs=tuple(dict.fromkeys(outputs)),
            doc=(mod.__doc__ or "").strip().splitlines()[0],
            kind=kind,
            inputs=tuple(mod.INPUTS),
            parameters=dict(mod.PARAMETERS),
            module=mod,
        )


@dataclass(frozen=True)
class Coupling:
    """A named arrow between two modules: ``source`` provides ``quantity`` to ``target``."""

    source: str
    target: str
    quantity: str


@dataclass(frozen=True)
class PathwayEdge:
    """A signed arrow of the intracellular pathway (+1 activates, -1 inhibits)."""

    source: str
    target: str
    sign: int
    chronic_only: bool = False


#: The fast layer, in the order the kernel evaluates it.
FAST_MODULES: tuple[ModuleType, ...] = (pk, receptor, signalling, respiration)
#: The brain modules in dependency order (neurochemistry before structure before cognition).
BRAIN_MODULES: tuple[ModuleType, ...] = (
    tolerance,
    dopamine,
    glutamate,
    inflammation,
    affect,
    structure,
    white_matter,
    cognition,
)
#: Names of the brain modules (the prefixes of their variables in results).
BRAIN_MODULE_NAMES: tuple[str, ...] = tuple(m.NAME for m in BRAIN_MODULES)

#: Where doses come from (not a model file: the regimen, treatments or behaviour).
DOSING = Module("dosing", "dose events", (), ("doses",), "regimen / treatments / behaviour")

#: Every module in order: dosing, the fast layer, the brain modules.
MODULES: tuple[Module, ...] = (
    DOSING,
    *(Module.of(m, "fast") for m in FAST_MODULES),
    *(Module.of(m, "brain") for m in BRAIN_MODULES),
)

#: Daily drivers of the slow clock: the fast layer's daily records, in module order.
DRIVERS: tuple[str, ...] = tuple(k for m in FAST_MODULES for k in m.DAILY)
#: Per-subject covariates (constant over the run, except age, which advances).
COVARIATES: tuple[str, ...] = ("age_years", "female", "smoked_fraction")


def _couplings(modules: tuple[Module, ...]) -> tuple[Coupling, ...]:
    """One arrow per (provider, reader) pair, labelled with what flows along it.

    A module's input is provided by the last module before it that outputs it
    (covariates come from the cohort and draw no arrow).
    """
    pairs: dict[tuple[str, str], list[str]] = {}
    for k, reader in enumerate(modules):
        for quantity in reader.inputs:
            source = next((m.name for m in reversed(modules[:k]) if quantity in m.outputs), None)
            if source is not None:
                pairs.setdefault((source, reader.name), []).append(quantity.replace("_", " "))
    return tuple(Coupling(s, t, ", ".join(q)) for (s, t), q in pairs.items())


#: The named couplings, derived from the modules' INPUTS and OUTPUTS.
COUPLINGS: tuple[Coupling, ...] = _couplings(MODULES)


def brain_modules_for(variables: tuple[str, ...]) -> tuple[ModuleType, ...]:
    """The brain modules that give these ``<module>_<output>`` variables, with what they read.

    In registry order: e.g. the rat lab's behaviour reads dopamine, glutamate
    and affect outputs, and affect reads inflammation, so those four run.
    """
    by_name = {m.NAME: m for m in BRAIN_MODULES}
    wanted = {n for n in by_name if any(v.startswith(n + "_") for v in variables)}
    while True:
        more = {c.source for c in COUPLINGS if c.target in wanted and c.source in by_name}
        if more <= wanted:
            break
        wanted |= more
    return tuple(m for m in BRAIN_MODULES if m.NAME in wanted)


#: The mu-opioid receptor pathway under acute and chronic exposure, as modelled.
SIGNALLING_PATHWAY: tuple[PathwayEdge, ...] = (
    PathwayEdge("heroin / 6-MAM / morphine", "MOR", +1),
    PathwayEdge("naloxone / naltrexone", "MOR", -1),
    PathwayEdge("MOR", "Gi/o", +1),
    PathwayEdge("Gi/o", "adenylyl cyclase", -1),
    PathwayEdge("adenylyl cyclase", "cAMP", +1),
    PathwayEdge("Gi/o", "AC superactivation", +1, chronic_only=True),
    PathwayEdge("AC superactivation", "adenylyl cyclase", +1, chronic_only=True),
    PathwayEdge("cAMP", "withdrawal (overshoot)", +1, chronic_only=True),
)

#: Slow states advanced on the coarse clock, with units and the module that owns them.
SLOW_STATES: dict[str, tuple[str, str]] = {
    "u_fast": ("1", "signalling"),
    "u_slow": ("1", "signalling"),
}

#: Functions of the read-out layer, by module (for docs and symbolic export).
READOUTS = {
    "receptor": (receptor.activation, receptor.stimulus, receptor.agonist_occupancy),
    "signalling": (
        signalling.camp_level,
        signalling.superactivation_demand,
        signalling.opioid_effect,
        signalling.withdrawal_index,
    ),
    "respiration": (
        respiration.respiratory_activation,
        respiration.relative_ventilation,
        respiration.pao2_steady,
        respiration.spo2,
    ),
}
