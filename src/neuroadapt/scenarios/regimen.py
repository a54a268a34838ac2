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

Segments, units and durations are defined in ``scenarios.regimen_segments``
and re-exported here. The events are :class:`neuroadapt.model.dose.Dose`, the
type the engine simulates, so ``simulate(params, r.events(), ...)`` takes them
as they are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import DRUG_ALIASES, DRUGS
from neuroadapt.scenarios.regimen_segments import (
    _GLUED_RE,
    _INT_RE,
    _NUMBER_RE,
    _SHAPES,
    AMOUNT_UNITS,
    DURATION_UNITS,
    MAX_AMOUNT,
    MAX_DOSES,
    MAX_NESTING,
    MAX_SEGMENTS,
    Abstinence,
    Cycle,
    RegimenError,
    RepeatedDose,
    Segment,
    SingleDose,
    _canon_drug,
    _canon_route,
    _chain,
    _check_size,
    _shift,
    _sizes,
    _total,
    events_to_frame,
    format_duration,
    parse_duration,
    sort_events,
)

__all__ = [
    "DURATION_UNITS",
    "MAX_AMOUNT",
    "MAX_DOSES",
    "MAX_NESTING",
    "MAX_SEGMENTS",
    "Abstinence",
    "Cycle",
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

    def events(self, start_h: float = 0.0) -> list[Dose]:
        """Expand to dose events, in time order, the first segment starting at ``start_h``."""
        return _shift(_chain(self.segments)[0], start_h)
