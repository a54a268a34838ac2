"""Session specifications and day results of the virtual rat lab (no numba).

One job: what a rat does on one day (:class:`SessionSpec`, with its
scheduled :class:`SessionDose` s and unit-dose :class:`Component` s), the MED-PC
event codes and counters of the ``neuroadapt-sa`` profile, and the
:class:`DayResult` a simulated day returns. The kernel that runs a day is
``engine.operant_kernel``; the lab that drives it is ``engine.operant``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroadapt.model.clock import HOURS_PER_DAY

__all__ = [
    "CODES",
    "COUNTERS",
    "DAY_S",
    "MAX_COMPONENTS",
    "Component",
    "DayResult",
    "SessionDose",
    "SessionSpec",
    "ZONES",
    "hours",
]

#: Seconds in a simulated day (session start to the next session start).
DAY_S = 86400
#: Home-cage steps (s): fine for HOME_FINE_S after the session or a scheduled dose, else coarse.
HOME_DT_S = 30
HOME_COARSE_S = 600
HOME_FINE_S = 4 * 3600
#: Event codes, as in the ``neuroadapt-sa`` MED-PC profile.
CODES: dict[str, int] = {
    "active_press": 1,
    "inactive_press": 2,
    "infusion": 3,
    "pump_off": 4,
    "timeout_start": 5,
    "timeout_end": 6,
    "cue_on": 7,
    "cue_off": 8,
    "session_start": 9,
    "session_end": 10,
    "prime": 11,
    "footshock": 12,
    "component_start": 13,
    "component_end": 14,
}
#: Per-session counters (the profile's scalars A, B, C, D, F, P).
COUNTERS = (
    "active_presses",
    "inactive_presses",
    "infusions",
    "timeout_presses",
    "ratio_requirement",
    "primes",
    "footshocks",
)
#: Place-conditioning zones, in the order of the time outputs.
ZONES = ("drug", "vehicle", "centre")

_KIND = {"home": 0, "operant": 1, "cpp_confine": 2, "cpp_test": 3}
_DOSE_KIND = {"conditioning": 0, "prime": 1, "antagonist": 2}
_MAX_DOSES = 4
#: Most components of a within-session unit-dose schedule.
MAX_COMPONENTS = 12


@dataclass(frozen=True)
class SessionDose:
    """A non-contingent dose at ``time_s`` after the session starts (mg/kg).

    One rat-session event: a prime, an antagonist or a conditioning injection
    that the experimenter gives, not one the rat earns. Not the dose event of
    the regimen language and the cohort engine (:class:`neuroadapt.model.dose.Dose`,
    timed in hours from the start of the simulation).
    """

    time_s: float
    drug: str
    route: str
    mg_per_kg: float
    kind: str = "prime"  # prime (MED-PC code 11) | antagonist | conditioning


@dataclass(frozen=True)
class Component:
    """One component of a within-session unit-dose schedule.

    The levers are out from ``start_s`` to ``end_s`` (s from session start)
    and each infusion earned then delivers ``mg_per_kg``; the component is
    signalled (a distinct stimulus), so the rat's expected drug effect of a
    press is that of the component's unit dose. Between components the levers
    are retracted (no responding, no drug).
    """

    start_s: float
    end_s: float
    mg_per_kg: float


@dataclass(frozen=True)
class SessionSpec:
    """What one rat does on one day.

    ``kind`` is ``home`` (no session), ``operant`` (a self-administration,
    extinction or test session), ``cpp_confine`` (confinement to one
    compartment, ``zone`` = ``drug`` or ``vehicle``, with any conditioning
    ``doses``) or ``cpp_test`` (free choice).

    ``components`` gives a within-session unit-dose schedule (start, end,
    unit dose of each component, in time order); empty, the whole session is
    one component at ``unit_dose_mg_kg`` (which then gives exactly the
    numbers of an explicit one-component schedule, tested). With components,
    ``unit_dose_mg_kg`` is not used for dosing, and the last component's dose
    is the one the rat remembers for later unreinforced sessions.
    """

    kind: str = "home"
    phase: str = "home"
    duration_s: float = 0.0
    ratio: int = 1
    progressive: bool = False
    unit_dose_mg_kg: float = 0.0
    reinforced: bool = True
    cue: bool = True
    timeout_s: float = 20.0
    cue_s: float = 20.0
    infusion_s: float = 5.0
    footshock_min: float = 0.0
    footshock_interval_s: float = 40.0
    zone: str = "drug"
    doses: tuple[SessionDose, ...] = field(default_factory=tuple)
    components: tuple[Component, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in _KIND:
            raise ValueError(f"session kind '{self.kind}' not in {sorted(_KIND)}")
        if not 0 <= self.duration_s <= DAY_S - 3600:
            raise ValueError(f"session length {self.duration_s} s outside 0-{DAY_S - 3600} s")
        if self.ratio < 1:
            raise ValueError(f"ratio {self.ratio} must be >= 1")
        if self.unit_dose_mg_kg < 0 or self.timeout_s < 0 or self.infusion_s < 1:
            raise ValueError("unit dose and timeout must be >= 0 and the infusion >= 1 s")
        if self.zone not in ("drug", "vehicle"):
            raise ValueError(f"zone '{self.zone}' not in drug, vehicle")
        if len(self.doses) > _MAX_DOSES:
            raise ValueError(f"at most {_MAX_DOSES} scheduled doses a day")
        for d in self.doses:
            if not 0 <= d.time_s < DAY_S or d.mg_per_kg < 0 or d.kind not in _DOSE_KIND:
                raise ValueError(f"bad scheduled dose {d}")
        if self.components and self.kind != "operant":
            raise ValueError("a unit-dose schedule needs an operant session")
        if len(self.components) > MAX_COMPONENTS:
            raise ValueError(f"at most {MAX_COMPONENTS} components a session")
        end = 0.0
        for c in self.components:
            if not end <= c.start_s < c.end_s <= self.duration_s or c.mg_per_kg < 0:
                raise ValueError(
                    f"bad component {c}: components must be in time order, not overlap, "
                    f"lie within the {self.duration_s:g}-s session and have a dose >= 0"
                )
            end = c.end_s

    def schedule(self) -> tuple[Component, ...]:
        """The unit-dose schedule in force (one component for the whole session by default)."""
        if self.components:
            return self.components
        return (Component(0.0, float(int(self.duration_s)), self.unit_dose_mg_kg),)


@dataclass
class DayResult:
    """One simulated day of every rat in the lab (arrays over rats)."""

    day: int
    specs: list[SessionSpec]
    counters: np.ndarray  # (rats, len(COUNTERS))
    events: list[tuple[np.ndarray, np.ndarray]]  # per rat: times (s), codes
    daily: dict[str, np.ndarray]
    zone_s: np.ndarray  # (rats, 3): seconds in ZONES during a cpp_test
    brain: dict[str, np.ndarray]  # the brain read-outs the day's decisions used
    state: dict[str, np.ndarray]  # behavioural state at the end of the day


def hours(h: float) -> float:
    """Seconds in ``h`` hours (for session lengths)."""
    return h * 3600.0


assert HOURS_PER_DAY * 3600 == DAY_S
