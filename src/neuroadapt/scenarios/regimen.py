"""Regimens: a small dosing language that round-trips.

A regimen is a sequence of segments joined by ``then``; each segment lasts a
definite time and the next one starts where it ends (the style of mrgsolve's
``ev_rx``)::

    25 mg iv q8h x 90d escalating 5% per 7d     repeated doses (x DURATION)
    methadone 60 mg oral q24h x 3                repeated doses (x COUNT)
    heroin 10 mg iv over 2h q12h x 7d            zero-order infusions
    0 x 14d                                      abstinence
    naloxone 0.4 mg im at 2d                     one dose, 2 d into the segment
    (0.1 mg/kg iv q1h x 6h then 0 x 18h) repeat 10

``Regimen.parse(str(r)) == r`` for every regimen, and ``str(Regimen.parse(s))
== s`` for canonical text (lower case, single spaces, ``mg`` or ``mg/kg``,
durations in the largest unit that is a whole number). Times are stored in
hours, amounts in ``mg`` or ``mg/kg``.

Examples
--------
>>> r = Regimen.parse("25 mg iv q8h x 90d then 0 x 14d then naloxone 0.4 mg im at 2d")
>>> r.events()[-1].time_h / 24
106.0
>>> str(Regimen.parse("Heroin 25000 UG Intravenous q1d x 2w"))
'25 mg iv q24h x 14d'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import pandas as pd

from neuroadapt.model.routes import ALLOWED_ROUTES, DRUG_ALIASES, DRUGS, ROUTE_ALIASES, ROUTES

__all__ = [
    "MAX_AMOUNT",
    "MAX_DOSES",
    "MAX_NESTING",
    "MAX_SEGMENTS",
    "Abstinence",
    "Cycle",
    "DoseEvent",
    "Regimen",
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
@dataclass(frozen=True)
class DoseEvent:
    """One administration: ``amount`` (``unit``) of ``drug`` by ``route`` at ``time_h``.

    ``duration_h`` > 0 marks a zero-order infusion of that length.
    """

    time_h: float
    drug: str
    route: str
    amount: float
    unit: str
    duration_h: float = 0.0


def sort_events(events: Iterable[DoseEvent]) -> list[DoseEvent]:
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


def events_to_frame(events: Iterable[DoseEvent]) -> pd.DataFrame:
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
class _Dose:
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

    def _event(self, t: float, amount: float) -> DoseEvent:
        return DoseEvent(t, self.drug, self.route, amount, self.unit, self.infusion_h)


@dataclass(frozen=True)
class RepeatedDose(_Dose):
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

    def _relative(self) -> list[DoseEvent]:
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
class SingleDose(_Dose):
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

    def _relative(self) -> list[DoseEvent]:
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

    def _relative(self) -> list[DoseEvent]:
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

    def _relative(self) -> list[DoseEvent]:
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


def _chain(segments: Sequence[Segment]) -> tuple[list[DoseEvent], float]:
    """Events of segments run back to back, relative to 0, and their total length.

    Offsets accumulate from 0 by the same additions that give the length, so
    event times never decrease and never pass the end, even after rounding.
    """
    out: list[DoseEvent] = []
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


def _shift(events: list[DoseEvent], start_h: float) -> list[DoseEvent]:
    return [replace(e, time_h=start_h + e.time_h) for e in events] if start_h else events


# ----------------------------------------------------------------- parsing
def _tokens(text: str) -> list[str]:
    return re.findall(r"\(|\)|[^\s()]+", text.lower())


def _check_nesting(tokens: list[str]) -> None:
    """Refuse ``(...)`` nested deeper than ``MAX_NESTING``, in one pass before any parsing."""
    depth = 0
    for tok in tokens:
        depth += (tok == "(") - (tok == ")")
        if depth > MAX_NESTING:
            raise RegimenError(
                "nesting", depth, f"'(...) repeat N' blocks nested at most {MAX_NESTING} deep"
            )


def _split(tokens: list[str], where: str) -> list[list[str]]:
    """Split on ``then`` at parenthesis depth 0."""
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        depth += (tok == "(") - (tok == ")")
        if depth < 0:
            raise RegimenError("parenthesis", ")", "a matching '('", where)
        if tok == "then" and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    if depth:
        raise RegimenError("parenthesis", "(", "a matching ')'", where)
    return parts


def _parse_sequence(tokens: list[str], default_drug: str | None, where: str) -> list[Segment]:
    segments = []
    for i, part in enumerate(_split(tokens, where), start=1):
        label = f"{where}segment {i} {' '.join(part)!r}".replace("( ", "(").replace(" )", ")")
        try:
            segments.append(_parse_segment(part, default_drug, label))
        except RegimenError as err:
            if err.segment:
                raise
            raise RegimenError(err.field, err.value, err.allowed, label) from None
    return segments


def _is_amount(tok: str) -> bool:
    return bool(_NUMBER_RE.match(tok) or _GLUED_RE.match(tok))


def _number(tok: str, name: str) -> float:
    try:
        value = float(tok)
    except ValueError:
        raise RegimenError(name, tok, "a number") from None
    return value


def _parse_segment(tok: list[str], default_drug: str | None, label: str) -> Segment:
    if not tok:
        raise RegimenError("segment", "", _SHAPES)
    if tok[0] == "(":
        close = len(tok) - 1 - tok[::-1].index(")")
        rest = tok[close + 1 :]
        if len(rest) != 2 or rest[0] != "repeat" or not _INT_RE.fullmatch(rest[1]):
            raise RegimenError("repeat block", " ".join(rest), "'(...) repeat N' with N >= 1")
        inner = _parse_sequence(tok[1:close], default_drug, label + " > ")
        return Cycle(tuple(inner), int(rest[1]))
    if len(tok) >= 2 and tok[1] == "x" and re.fullmatch(r"[-+]?0*\.?0*", tok[0]):
        if len(tok) != 3:
            raise RegimenError("abstinence", " ".join(tok), "'0 x DURATION' (e.g. '0 x 14d')")
        return Abstinence(parse_duration(tok[2], "abstinence duration"))
    tok = list(tok)
    drug = default_drug
    if not _is_amount(tok[0]):
        if tok[0] in DRUGS or tok[0] in DRUG_ALIASES or _is_amount(tok[1] if len(tok) > 1 else ""):
            drug = _canon_drug(tok.pop(0))
        elif default_drug is not None:
            raise RegimenError("amount", tok[0], "a number >= 0")
    if drug is None:
        raise RegimenError("drug", tok[0], "the drug named first: one of " + ", ".join(DRUGS))
    if tok and (m := _GLUED_RE.match(tok[0])):
        tok[0:1] = [m.group(1), m.group(2)]
    if len(tok) < 4:
        raise RegimenError("segment", " ".join(tok), _SHAPES)
    amount = _number(tok[0], "amount")
    if not math.isfinite(amount) or amount < 0:
        raise RegimenError("amount", tok[0], "a finite number >= 0")
    if tok[1] not in AMOUNT_UNITS:
        raise RegimenError("unit", tok[1], "one of mg, ug, µg, mcg, g, mg/kg, ug/kg, µg/kg")
    divisor, unit = AMOUNT_UNITS[tok[1]]
    amount = amount / divisor
    route = _canon_route(tok[2], drug)
    rest = tok[3:]
    infusion = 0.0
    if rest[0] == "over":
        if len(rest) < 2:
            raise RegimenError("over", "", "an infusion duration (e.g. 'over 2h')")
        infusion = parse_duration(rest[1], "infusion duration")
        if infusion <= 0:
            raise RegimenError("infusion duration", rest[1], "a duration > 0 (e.g. 'over 2h')")
        rest = rest[2:]
    head = {"drug": drug, "amount": amount, "unit": unit, "route": route, "infusion_h": infusion}
    if rest and rest[0] == "at" and len(rest) == 2:
        return SingleDose(**head, at_h=parse_duration(rest[1], "at"))
    if rest and rest[0] == "q" and len(rest) > 1:
        rest = ["q" + rest[1], *rest[2:]]
    if not rest or not rest[0].startswith("q") or len(rest) < 3 or rest[1] != "x":
        got = " ".join(rest) or "nothing"
        raise RegimenError("schedule", got, "'qINTERVAL x N|DURATION' or 'at TIME' after the route")
    interval = parse_duration(rest[0][1:], "interval")
    if interval <= 0:
        raise RegimenError("interval", rest[0], "an interval > 0 (e.g. 'q8h')")
    n_or_d: dict[str, float | int] = (
        {"count": int(rest[2])}
        if _INT_RE.fullmatch(rest[2])
        else {"duration_h": parse_duration(rest[2])}
    )
    esc = rest[3:]
    if not esc:
        return RepeatedDose(**head, interval_h=interval, **n_or_d)
    if len(esc) != 4 or esc[0] != "escalating" or not esc[1].endswith("%") or esc[2] != "per":
        raise RegimenError("escalation", " ".join(esc), "'escalating P% per DURATION'")
    return RepeatedDose(
        **head,
        interval_h=interval,
        **n_or_d,
        escalation_pct=_number(esc[1][:-1], "escalation"),
        escalation_every_h=parse_duration(esc[3], "escalation period"),
    )


# ----------------------------------------------------------------- regimen
@dataclass(frozen=True)
class Regimen:
    """A dosing regimen: segments run one after the other.

    Parameters
    ----------
    segments : tuple of Segment
        ``RepeatedDose``, ``SingleDose``, ``Abstinence`` or ``Cycle`` objects.
    """

    segments: tuple[Segment, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        if not self.segments:
            raise RegimenError("regimen", "", "at least one segment")
        _check_size(_sizes(self.segments), "regimen", str(self))

    @property
    def n_doses(self) -> int:
        """Number of dose events, repeats included (counted without expanding)."""
        return _sizes(self.segments)[0]

    @classmethod
    def parse(cls, text: str, default_drug: str | None = "heroin") -> Regimen:
        """Parse regimen text (case-insensitive).

        Parameters
        ----------
        text : str
            E.g. ``"25 mg iv q8h x 90d then 0 x 14d"``.
        default_drug : str or None
            Drug of segments that name none; ``None`` makes the drug mandatory.

        Raises
        ------
        RegimenError
            One-line message naming the segment, the field and what is allowed.
        """
        if not isinstance(text, str) or not text.strip():
            raise RegimenError("regimen", text, _SHAPES)
        tokens = _tokens(text)
        _check_nesting(tokens)
        return cls(tuple(_parse_sequence(tokens, default_drug, "")))

    def __str__(self) -> str:
        return " then ".join(map(str, self.segments))

    @property
    def duration_h(self) -> float:
        """Total length in hours (sum of the segments)."""
        return _total(self.segments)

    def events(self, start_h: float = 0.0) -> list[DoseEvent]:
        """Expand to dose events, in time order, the first segment starting at ``start_h``."""
        return _shift(_chain(self.segments)[0], start_h)
