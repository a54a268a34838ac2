"""The engine's inputs besides the doses: the naloxone rescue rule and the numerical options.

The dose events themselves are :class:`neuroadapt.model.dose.Dose`, the type
the regimen language expands to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RescueRule:
    """Naloxone given ``delay_min`` after PaO2 first falls below ``trigger_pao2_mmhg``."""

    dose_mg: float = 0.4
    route: str = "im"
    delay_min: float = 5.0
    trigger_pao2_mmhg: float = 40.0
    probability: float = 1.0
    drug: str = "naloxone"

    @classmethod
    def from_scenario(cls, rescue) -> RescueRule:
        """The rule of a scenario's ``[rescue]`` table (``scenarios.schema.Rescue``)."""
        return cls(
            dose_mg=rescue.dose_mg,
            route=rescue.route,
            delay_min=rescue.delay_min,
            trigger_pao2_mmhg=rescue.trigger_pao2_mmhg,
            probability=rescue.probability,
            drug=rescue.drug,
        )


@dataclass(frozen=True)
class EngineOptions:
    """Numerical options of the engine (not science: they set resolution and memory).

    Attributes
    ----------
    record_every_h
        Spacing of recorded time points (h).
    chunk_size
        Subjects per kernel call.
    screen_pao2_mmhg
        Quasi-steady PaO2 below which an interval is resolved at ``fine_dt_s``;
        must exceed the hypoxia threshold so hypoxia minutes are counted.
    fine_dt_s
        Step of the fine respiratory resolution (s).
    max_episodes
        Overdose episodes stored per subject.
    record_state
        Also record every PK state at the record times (dense trajectories).
    quadrature
        ``"standard"`` or ``"reference"`` (a much finer rule for accuracy checks).
    """

    record_every_h: float = 24.0
    chunk_size: int = 2000
    screen_pao2_mmhg: float = 62.0
    fine_dt_s: float = 30.0
    max_episodes: int = 64
    record_state: bool = False
    quadrature: str = "standard"
    extra_record_times_h: tuple[float, ...] = field(default_factory=tuple)
