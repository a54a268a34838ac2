"""The coupled system: modules, their states and the named couplings between them.

This is the model's structure as data. The engine reads the state layout
from the modules; the report draws the mechanism diagrams from
:data:`MODULES`, :data:`COUPLINGS` and :data:`SIGNALLING_PATHWAY`; the SBML
exporter names species after :data:`SLOW_STATES`. A later module (dopamine,
glutamate, ...) is added by appending to these tables and adding its own
module file, not by editing the existing ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroadapt.model import receptor, respiration, signalling


@dataclass(frozen=True)
class Module:
    """One scale of the model."""

    name: str
    title: str
    states: tuple[str, ...]
    outputs: tuple[str, ...]
    doc: str


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


MODULES: tuple[Module, ...] = (
    Module("dosing", "dose events", (), ("amount by drug and route",), "regimen / treatments"),
    Module(
        "pk",
        "pharmacokinetics",
        ("heroin", "6mam", "morphine", "m6g", "m3g", "depots", "brain effect sites"),
        ("effect-site concentrations",),
        "model.pk",
    ),
    Module(
        "receptor",
        "MOR occupancy and activation",
        (),
        ("activation A", "agonist occupancy CAR"),
        receptor.__doc__ or "",
    ),
    Module(
        "signalling",
        "Gi/o - adenylyl cyclase - cAMP",
        ("u_fast", "u_slow"),
        ("cAMP", "opioid effect", "withdrawal index", "tolerance shift"),
        signalling.__doc__ or "",
    ),
    Module(
        "respiration",
        "brainstem respiration and overdose",
        ("pao2",),
        ("ventilation", "PaO2", "SpO2", "hypoxia minutes", "overdose episodes"),
        respiration.__doc__ or "",
    ),
)

COUPLINGS: tuple[Coupling, ...] = (
    Coupling("dosing", "pk", "dose amounts by route"),
    Coupling(
        "pk", "receptor", "brain concentrations of heroin, 6-MAM, morphine, M6G and treatments"
    ),
    Coupling("receptor", "signalling", "MOR activation A"),
    Coupling("receptor", "respiration", "agonist occupancy CAR"),
    Coupling("signalling", "respiration", "AC superactivation U (respiratory tolerance)"),
)

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
