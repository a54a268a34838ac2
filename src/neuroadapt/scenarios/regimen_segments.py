"""Building blocks of the regimen language: units, durations and segments.

One job: the values a regimen is made of (``scenarios.regimen`` parses and
prints them): the accepted duration and amount units and limits,
:class:`RegimenError`, duration parsing and formatting, and the segments
:class:`RepeatedDose`, :class:`SingleDose`, :class:`Abstinence` and
:class:`Cycle` with the helpers that expand and chain them into dose events
(:class:`neuroadapt.model.dose.Dose`, the type the engine simulates) and
sort and tabulate those.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace

import pandas as pd

from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import ALLOWED_ROUTES, DRUG_ALIASES, DRUGS, ROUTE_ALIASES, ROUTES

__all__ = [
    "MAX_AMOUNT",
    "MAX_DOSES",
    "MAX_NESTING",
    "MAX_SEGMENTS",
    "Abstinence",
    "Cycle",
    "RegimenError",
    "RepeatedDose",
    "Segment",
    "SingleDose",
    "events_to_frame",
    "format_duration",
    "parse_duration",
    "sort_events",
]

#: Hours per duration unit (``y`` is the Julian year, 365.25 d).
DURATION_UNITS: dict[str, float] = {
    "s": 1 / 3600,
    "min": 1 / 60,
    "h": 1.0,
    "d": 24.0,
    "w": 168.0,
    "y": 8766.0,
}
#: Amount units accepted on input: (divisor to reach the stored unit, stored unit).
AMOUNT_UNITS: dict[str, tuple[float, str]] = {
    "mg": (1.0, "mg"),
    "ug": (1000.0, "mg"),
    "µg": (1000.0, "mg"),
    "μg": (1000.0, "mg"),
    "mcg": (1000.0, "mg"),
    "g": (1e-3, "mg"),
    "mg/kg": (1.0, "mg/kg"),
    "ug/kg": (1000.0, "mg/kg"),
    "µg/kg": (1000.0, "mg/kg"),
    "μg/kg": (1000.0, "mg/kg"),
}
#: Most doses a regimen may expand to, repeats included (10 years of hourly doses
#: is 87,660). Not science but resources: the engine's time and memory grow with
#: the number of doses, and a million doses would run for minutes per subject.
MAX_DOSES = 100_000
#: Most segments a regimen may expand to, repeats included (as ``MAX_DOSES``).
MAX_SEGMENTS = 100_000
#: Deepest nesting of ``(...) repeat N`` blocks.
MAX_NESTING = 8
#: Largest single dose, by stored unit.
#: assumption: 10 g is about 15 times the largest single IV heroin doses in the
#: literature table (200-690 mg in heroin-assisted treatment; Gyr E et al. 2000 Int J
#: Clin Pharmacol Ther 38:486-491) and far above any other opioid dose in clinical
#: use; 1 g/kg is above every lethal dose of the opioids modelled, in rodents and
#: people (tens to hundreds of mg/kg). The bounds admit any overdose experiment and
#: reject typing errors and numbers the arithmetic cannot carry (1e308 mg gave NaN).
MAX_AMOUNT: dict[str, float] = {"mg": 10_000.0, "mg/kg": 1_000.0}
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"
_DURATION_RE = re.compile(rf"^({_NUM})(s|min|h|d|w|y)$")
_GLUED_RE = re.compile(rf"^({_NUM})([a-zµμ/]+)$")
_NUMBER_RE = re.compile(rf"^{_NUM}$|^[-+]?(?:nan|inf)$")
_INT_RE = re.compile(r"\d+", re.ASCII)
_SHAPES = (
    "'[drug] amount unit route [over T] qINTERVAL x N|DURATION [escalating P% per T]',"
    " '[drug] amount unit route [over T] at T', '0 x DURATION' or '(...) repeat N'"
)


class RegimenError(ValueError):
    """A regimen text or component is invalid.

    Parameters
    ----------
    field : str
        What is wrong (``"route"``, ``"amount"``, ``"segment"``...).
    value : object
        The offending value.
    allowed : str
        What would have been accepted.
    segment : str, optional
        ``"segment N 'text'"``: where in the regimen the error is.
    """

    def __init__(self, field: str, value: object, allowed: str, segment: str | None = None):
        self.field, self.value, self.allowed, self.segment = field, value, allowed, segment
        where = f"{segment}: " if segment else ""
        super().__init__(f"{where}{field} {value!r}: expected {allowed}")


# ----------------------------------------------------------------- durations
def parse_duration(text: str, what: str = "duration") -> float:
    """Parse ``"8h"``, ``"14d"``, ``"30 min"`` or ``"0"`` into hours.

    Units: ``s``, ``min``, ``h``, ``d``, ``w`` (week), ``y`` (365.25 d).
    """
    s = re.sub(r"\s+", "", str(text).lower())
    m = _DURATION_RE.match(s)
    if m is None:
        if re.fullmatch(r"[-+]?0*\.?0*", s) and s.strip("+-."):
            return 0.0
        raise RegimenError(what, text, "a number and a unit in s, min, h, d, w, y (e.g. '14d')")
    value, unit = float(m.group(1)), m.group(2)
    hours = {"s": value / 3600, "min": value / 60}.get(unit, value * DURATION_UNITS[unit])
    if not math.isfinite(hours) or hours < 0:
        raise RegimenError(what, text, "a finite duration >= 0")
    return hours


def _fmt(x: float) -> str:
    """Shortest text that reads back as exactly ``x``."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else repr(float(x))


def format_duration(hours: float, units: Sequence[str] = ("y", "d", "h", "min", "s")) -> str:
    """Write ``hours`` in the first of ``units`` that gives an exact whole number.

    Falls back to the shortest exact decimal in hours, so that
    ``parse_duration(format_duration(h)) == h`` always holds.
    """
    hours = float(hours)
    if hours == 0:
        return "0"
    for unit in units:
        value = {"s": hours * 3600, "min": hours * 60}.get(unit, hours / DURATION_UNITS[unit])
        if value.is_integer() and abs(value) < 1e15:
            text = f"{int(value)}{unit}"
            if parse_duration(text) == hours:
                return text
    return f"{_fmt(hours)}h"


def _fmt_interval(hours: float) -> str:
    return format_duration(hours, ("h", "min", "s"))


# ----------------------------------------------------------------- events
def sort_events(events: Iterable[Dose]) -> list[Dose]:
    """Sort events by time, then drug, route, amount and duration (a canonical order)."""
    return sorted(
        events,
        key=lambda e: (
            e.time_h,
            DRUGS.index(e.drug),
            ROUTES.index(e.route),
            e.unit,
            e.amount,
            e.duration_h,
        ),
    )


def events_to_frame(events: Iterable[Dose]) -> pd.DataFrame:
    """Return events as a table with columns time_h, drug, route, amount, unit, duration_h."""
    cols = ["time_h", "drug", "route", "amount", "unit", "duration_h"]
    return pd.DataFrame([asdict(e) for e in events], columns=cols)


# ----------------------------------------------------------------- segments
def _canon_drug(drug: str) -> str:
    d = DRUG_ALIASES.get(str(drug).lower(), str(drug).lower())
    if d not in DRUGS:
        raise RegimenError("drug", drug, "one of " + ", ".join(DRUGS))
    return d


def _canon_route(route: str, drug: str) -> str:
    r = ROUTE_ALIASES.get(str(route).lower(), str(route).lower())
    if r not in ROUTES:
        raise RegimenError("route", route, "one of " + ", ".join(ROUTES))
    if r not in ALLOWED_ROUTES[drug]:
        raise RegimenError(
            "route", route, f"a route allowed for {drug}: " + ", ".join(ALLOWED_ROUTES[drug])
        )
    return r


def _check(name: str, value: float, low: float, strict: bool = False) -> None:
    bad = not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
    if bad or value < low or (strict and value == low):
        raise RegimenError(name, value, f"a finite number {'>' if strict else '>='} {_fmt(low)}")


def _check_amount(name: str, amount: float, unit: str) -> None:
    if amount > MAX_AMOUNT[unit]:
        raise RegimenError(name, amount, f"a dose of at most {_fmt(MAX_AMOUNT[unit])} {unit}")


@dataclass(frozen=True)
class _DoseSegment:
    """What the dose segments share: drug, amount, unit, route and infusion length."""

    drug: str
    amount: float
    unit: str
    route: str
    infusion_h: float = 0.0

    def _validate(self) -> None:
        object.__setattr__(self, "drug", _canon_drug(self.drug))
        object.__setattr__(self, "route", _canon_route(self.route, self.drug))
        _check("amount", self.amount, 0.0)
        _check("infusion duration", self.infusion_h, 0.0)
        if self.unit not in ("mg", "mg/kg"):
            raise RegimenError("unit", self.unit, "'mg' or 'mg/kg' (convert on input)")
        object.__setattr__(self, "amount", float(self.amount))
        _check_amount("amount", self.amount, self.unit)

    def _head(self) -> str:
        drug = "" if self.drug == "heroin" else f"{self.drug} "
        over = f" over {_fmt_interval(self.infusion_h)}" if self.infusion_h else ""
        return f"{drug}{_fmt(self.amount)} {self.unit} {self.route}{over}"

    def _event(self, t: float, amount: float) -> Dose:
        return Dose(t, self.drug, self.route, amount, self.unit, self.infusion_h)


@dataclass(frozen=True)
class RepeatedDose(_DoseSegment):
    """Doses every ``interval_h`` for ``duration_h`` hours or ``count`` doses.

    Doses fall at ``k * interval_h`` for ``k = 0, 1, ...`` while strictly
    before the segment's end. With ``escalation_pct`` the amount is multiplied
    by ``1 + escalation_pct / 100`` every ``escalation_every_h`` (compounding).
    """

    interval_h: float = 24.0
    duration_h: float | None = None
    count: int | None = None
    escalation_pct: float = 0.0
    escalation_every_h: float | None = None

    def __post_init__(self) -> None:
        self._validate()
        _check("interval", self.interval_h, 0.0, strict=True)
        if (self.duration_h is None) == (self.count is None):
            raise RegimenError("x", (self.duration_h, self.count), "a duration or a count")
        if self.count is not None and (type(self.count) is not int or self.count < 1):
            raise RegimenError("dose count", self.count, "an integer >= 1")
        if self.duration_h is not None:
            _check("duration", self.duration_h, 0.0, strict=True)
        if self.escalation_pct:
            _check("escalation", self.escalation_pct, -100.0, strict=True)
            _check("escalation period", self.escalation_every_h or 0.0, 0.0, strict=True)
        elif self.escalation_every_h is not None:
            raise RegimenError("escalation period", self.escalation_every_h, "none without a %")
        ratio = self.length_h / self.interval_h  # checked before rounding: it may be huge
        if self.count is not None and self.count > MAX_DOSES or ratio > MAX_DOSES:
            n = (
                self.count
                if self.count is not None
                else (math.ceil(ratio) if math.isfinite(ratio) else ratio)
            )
            raise RegimenError("dose count", n, f"at most {MAX_DOSES} doses in a regimen")
        last = self._amount_at((self.n_doses() - 1) * self.interval_h)
        if not math.isfinite(last) or last > MAX_AMOUNT[self.unit]:
            raise RegimenError(
                "escalation",
                self.escalation_pct,
                f"one that keeps every dose at most {_fmt(MAX_AMOUNT[self.unit])} {self.unit}"
                f" (the last would be {last:.4g} {self.unit})",
            )

    def _amount_at(self, t: float) -> float:
        if not self.escalation_pct or not self.escalation_every_h:
            return self.amount
        try:
            steps = math.floor(t / self.escalation_every_h + 1e-9)
            return self.amount * (1 + self.escalation_pct / 100) ** steps
        except OverflowError:
            return math.inf

    @property
    def length_h(self) -> float:
        """Segment length in hours."""
        return self.count * self.interval_h if self.count else float(self.duration_h or 0.0)

    def n_doses(self) -> int:
        """Return the number of doses in the segment."""
        if self.count:
            return self.count
        ratio = self.length_h / self.interval_h
        near = round(ratio)
        return max(1, near if abs(ratio - near) < 1e-9 * ratio else math.ceil(ratio))

    def _size(self) -> tuple[int, int]:
        return self.n_doses(), 1

    def _relative(self) -> list[Dose]:
        times = (k * self.interval_h for k in range(self.n_doses()))
        return [self._event(t, self._amount_at(t)) for t in times]

    def __str__(self) -> str:
        x = str(self.count) if self.count else format_duration(self.length_h)
        text = f"{self._head()} q{_fmt_interval(self.interval_h)} x {x}"
        if self.escalation_pct:
            every = format_duration(self.escalation_every_h or 0.0)
            text += f" escalating {_fmt(self.escalation_pct)}% per {every}"
        return text


@dataclass(frozen=True)
class SingleDose(_DoseSegment):
    """One dose ``at_h`` after the segment's start; the segment lasts ``at_h``."""

    at_h: float = 0.0

    def __post_init__(self) -> None:
        self._validate()
        _check("at", self.at_h, 0.0)

    @property
    def length_h(self) -> float:
        """Segment length in hours."""
        return float(self.at_h)

    def _size(self) -> tuple[int, int]:
        return 1, 1

    def _relative(self) -> list[Dose]:
        return [self._event(self.at_h, self.amount)]

    def __str__(self) -> str:
        return f"{self._head()} at {format_duration(self.at_h)}"


@dataclass(frozen=True)
class Abstinence:
    """No doses for ``duration_h`` hours (written ``0 x 14d``)."""

    duration_h: float

    def __post_init__(self) -> None:
        _check("abstinence duration", self.duration_h, 0.0, strict=True)

    @property
    def length_h(self) -> float:
        """Segment length in hours."""
        return float(self.duration_h)

    def _size(self) -> tuple[int, int]:
        return 0, 1

    def _relative(self) -> list[Dose]:
        return []

    def __str__(self) -> str:
        return f"0 x {format_duration(self.duration_h)}"


@dataclass(frozen=True)
class Cycle:
    """A block of segments run ``times`` times in a row: ``(A then B) repeat N``."""

    segments: tuple[Segment, ...]
    times: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        if not self.segments:
            raise RegimenError("repeat block", "()", "at least one segment")
        if not isinstance(self.times, int) or isinstance(self.times, bool) or self.times < 1:
            raise RegimenError("repeat", self.times, "an integer >= 1")
        doses, segments = _sizes(self.segments)
        object.__setattr__(self, "_expanded", (doses * self.times, segments * self.times))
        _check_size(self._expanded, "repeat", self.times)

    def _size(self) -> tuple[int, int]:
        return self._expanded  # type: ignore[attr-defined]

    @property
    def length_h(self) -> float:
        """Segment length in hours."""
        return _total(self.segments * self.times)

    def _relative(self) -> list[Dose]:
        return _chain(self.segments * self.times)[0]

    def __str__(self) -> str:
        return "(" + " then ".join(map(str, self.segments)) + f") repeat {self.times}"


Segment = RepeatedDose | SingleDose | Abstinence | Cycle


def _sizes(segments: Sequence[Segment]) -> tuple[int, int]:
    """(doses, segments) of segments run in a row, repeats expanded (counted, not built)."""
    doses = segments_n = 0
    for seg in segments:
        d, n = seg._size()
        doses, segments_n = doses + d, segments_n + n
    return doses, segments_n


def _check_size(size: tuple[int, int], field: str, value: object) -> None:
    doses, segments = size
    if doses > MAX_DOSES:
        raise RegimenError(
            field, value, f"a regimen of at most {MAX_DOSES} doses (this one has {doses})"
        )
    if segments > MAX_SEGMENTS:
        raise RegimenError(
            field,
            value,
            f"a regimen of at most {MAX_SEGMENTS} segments after repeats (this one has {segments})",
        )


def _chain(segments: Sequence[Segment]) -> tuple[list[Dose], float]:
    """Events of segments run back to back, relative to 0, and their total length.

    Offsets accumulate from 0 by the same additions that give the length, so
    event times never decrease and never pass the end, even after rounding.
    """
    out: list[Dose] = []
    offset = 0.0
    for seg in segments:
        out.extend(replace(e, time_h=offset + e.time_h) for e in seg._relative())
        offset += seg.length_h
    return out, offset


def _total(segments: Sequence[Segment]) -> float:
    offset = 0.0
    for seg in segments:
        offset += seg.length_h
    return offset


def _shift(events: list[Dose], start_h: float) -> list[Dose]:
    return [replace(e, time_h=start_h + e.time_h) for e in events] if start_h else events
