"""Literature values drawn beside the model in the report's figures.

Every number comes from the shipped target table
(:func:`neuroadapt.evidence.targets.load_targets`); none is typed here. This
module holds only the mapping of a target onto a panel: which panel, at what
time (days from a reference point of the life course) and how the target's
unit becomes the panel's (``y = shift + factor * value``). A target that is
not (yet) in the shipped table is left out without an error, and a figure's
caption says when no target maps onto it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes

from neuroadapt.evidence.targets import Target, load_targets

__all__ = [
    "MARKERS",
    "Marker",
    "Placed",
    "caption",
    "draw",
    "place",
]

_UP_TO_YEAR = re.compile(r"^(.*?\b((?:19|20)\d{2}))\b")
#: Days per month and year on the report's time axes.
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25
#: Reference points of a life course a marker's time is counted from; ``use period``
#: spans the whole of use (its ``day`` is ignored).
REFERENCES = ("start", "end of use", "discharge", "use period")


@dataclass(frozen=True)
class Marker:
    """Where one target of the shipped table is drawn.

    ``day`` is ``(first, last)`` days after ``ref`` (equal for a point in time);
    the target's value, low and high become ``shift + factor * x`` in the panel's unit.
    """

    target: str
    panel: str
    ref: str
    day: tuple[float, float] = (0.0, 0.0)
    factor: float = 1.0
    shift: float = 0.0
    unit: str = ""  # the panel's unit, for the legend; "fraction" is shown as a percentage

    def __post_init__(self) -> None:
        if self.ref not in REFERENCES:
            raise ValueError(f"marker {self.target}: ref {self.ref!r} is not one of {REFERENCES}")


_PER_100_TO_1000 = 10.0
_PCT_TO_FRACTION = 0.01
_PY = "per 1,000 PY"
_F = "fraction"
MARKERS: tuple[Marker, ...] = (
    # all-cause mortality of people using (per 100 PY in the table; per 1,000 PY drawn)
    Marker(
        "cli_cmr_opioid_degenhardt", "mortality", "use period", factor=_PER_100_TO_1000, unit=_PY
    ),
    Marker("cli_cmr_inject_larney", "mortality", "use period", factor=_PER_100_TO_1000, unit=_PY),
    Marker("cli_cmr_pwid_mathers", "mortality", "use period", factor=_PER_100_TO_1000, unit=_PY),
    # drug-related (overdose) mortality
    Marker(
        "cli_drd_cmr_larney", "mortality_overdose", "use period", factor=_PER_100_TO_1000, unit=_PY
    ),
    Marker(
        "od_fatal_rate_us_pwid",
        "mortality_overdose",
        "use period",
        factor=_PER_100_TO_1000,
        unit=_PY,
    ),
    Marker("od_fatal_incidence_vancouver", "mortality_overdose", "use period", unit=_PY),
    # share of people who inject with a non-fatal overdose in the past 12 months (%)
    Marker("od_nfod_past_year_colledge", "nonfatal_overdose", "use period", unit="%"),
    # stable daily dose in long-term heroin-assisted treatment (mg/day)
    Marker("tol_hat_daily_dose_swiss", "daily_dose", "use period", unit="mg/day"),
    # cumulative lapse and relapse after discharge from detoxification (% -> fraction)
    Marker("cli_lapse_1mo_smyth", "lapse", "discharge", (30, 30), _PCT_TO_FRACTION, unit=_F),
    Marker(
        "cli_heroin_use_post_residential_ntors",
        "lapse",
        "discharge",
        (365, 365),
        _PCT_TO_FRACTION,
        unit=_F,
    ),
    Marker(
        "cli_lapse_18_36mo_ducray", "lapse", "discharge", (548, 1096), _PCT_TO_FRACTION, unit=_F
    ),
    Marker("cli_relapse_1week_smyth", "relapse", "discharge", (7, 7), _PCT_TO_FRACTION, unit=_F),
    Marker("cli_relapse_1mo_smyth", "relapse", "discharge", (30, 30), _PCT_TO_FRACTION, unit=_F),
    Marker(
        "cli_relapse_detox_smyth", "relapse", "discharge", (730, 1461), _PCT_TO_FRACTION, unit=_F
    ),
    Marker(
        "cli_relapse_5yr_langendam", "relapse", "discharge", (1826, 1826), _PCT_TO_FRACTION, unit=_F
    ),
    # share abstinent 2-3 years after detoxification (% -> fraction)
    Marker(
        "cli_abstinent_2_3yr_smyth",
        "abstinent",
        "discharge",
        (730, 1096),
        _PCT_TO_FRACTION,
        unit=_F,
    ),
    # brain: post-mortem anterior insula volume of heroin users (% difference -> fraction)
    Marker(
        "str_insula_postmortem_muller",
        "structure_gm_volume:insula",
        "end of use",
        factor=_PCT_TO_FRACTION,
        shift=1.0,
        unit="x control",
    ),
)


@dataclass(frozen=True)
class Placed:
    """A marker placed on a life course: absolute days and values in the panel's unit."""

    marker: Marker
    target: Target
    first_d: float
    last_d: float
    y: float
    low: float
    high: float

    @property
    def label(self) -> str:
        """Short legend label: the source up to its year ("Degenhardt 2011"), else its name."""
        source = self.target.source.strip()
        m = _UP_TO_YEAR.match(source)
        if m and len(m.group(1)) <= 30:
            return m.group(1)
        if m:
            return f"{source.split()[0]} {m.group(2)}"
        return source.split(" (")[0][:30] or self.target.id

    @property
    def value_text(self) -> str:
        """The value in the panel's unit (a fraction as a percentage), with its interval."""
        unit = self.marker.unit
        k = 100.0 if unit == _F else 1.0
        shown = "%" if unit == _F else unit
        if math.isnan(self.target.value):  # a range, no central value
            return f"{k * self.low:.3g}-{k * self.high:.3g} {shown}".strip()
        ci = f" ({k * self.low:.3g}-{k * self.high:.3g})" if not math.isnan(self.low) else ""
        return f"{k * self.y:.3g}{ci} {shown}".strip()


def _y(m: Marker, x: float) -> float:
    return m.shift + m.factor * x if not math.isnan(x) else math.nan


def place(
    panel: str,
    times: Mapping[str, float],
    last_d: float,
    targets: Mapping[str, Target] | None = None,
    markers: Sequence[Marker] = MARKERS,
) -> list[Placed]:
    """The markers of ``panel`` whose target is in the table and whose time falls in the run.

    ``times`` gives the day of ``start``, ``end of use`` and ``discharge``;
    ``last_d`` is the last simulated day (a marker after it is left out, one that
    starts within it is cut at it).
    """
    table = load_targets() if targets is None else targets
    out = []
    for m in markers:
        t = table.get(m.target)
        if m.panel != panel or t is None:
            continue
        if m.ref == "use period":
            first, last = times.get("start", 0.0), times["end of use"]
        else:
            first, last = times[m.ref] + m.day[0], times[m.ref] + m.day[1]
        if first > last_d + 1e-9:
            continue
        lo, hi = _y(m, t.low), _y(m, t.high)
        if m.factor < 0:
            lo, hi = hi, lo
        y = _y(m, t.value) if not math.isnan(t.value) else 0.5 * (lo + hi)
        if math.isnan(y):
            continue
        out.append(Placed(m, t, first, min(last, last_d), y, lo, hi))
    return out


#: Colours and marker shapes of successive literature markers on one panel.
MARKER_STYLES = (("black", "D"), ("#7f7f7f", "s"), ("#bcbd22", "^"), ("#e377c2", "v"))


def draw(ax: Axes, placed: Sequence[Placed], x_unit_d: float = 1.0, offset_d: float = 0.0) -> None:
    """Draw placed markers on ``ax`` (x in days / ``x_unit_d`` after ``offset_d``).

    A time span is a horizontal line over the span with a shaded 95 % interval
    (or range); a point in time is a marker with an error bar.
    """
    for i, p in enumerate(placed):
        colour, shape = MARKER_STYLES[i % len(MARKER_STYLES)]
        x0, x1 = (p.first_d - offset_d) / x_unit_d, (p.last_d - offset_d) / x_unit_d
        has_ci = not (math.isnan(p.low) or math.isnan(p.high))
        label = f"{p.label}: {p.value_text}"
        if x1 - x0 > 1e-9:
            ax.hlines(p.y, x0, x1, colors=colour, linestyles="--", lw=1.3, label=label)
            if has_ci:
                ax.fill_between([x0, x1], p.low, p.high, color=colour, alpha=0.12, lw=0)
        else:
            err = [[p.y - p.low], [p.high - p.y]] if has_ci else None
            ax.errorbar(
                [x0], [p.y], yerr=err, fmt=shape, color=colour, ms=6, capsize=3, label=label
            )


def caption(
    placed: Sequence[Placed],
    cite: Callable[[str, str], str],
    what: str = "this panel",
    short: bool = False,
) -> str:
    """One sentence naming the literature drawn (with citations), or saying none maps.

    ``short`` names each source and target only (for a figure followed by a table
    of the findings).
    """
    if not placed:
        return (
            f"No target in the shipped table gives a number at a stated time for {what}, "
            "so no literature value is drawn."
        )
    parts = []
    for p in placed:
        src = ", ".join(s for s in (p.target.source, p.target.ref) if s)
        marker = cite(src, p.target.id) if src else ""
        if short:
            parts.append(f"{p.label}{' ' + marker if marker else ''} ({p.target.id})")
            continue
        parts.append(
            f"{p.target.quantity}: {p.target.literature_text()} ({p.target.source}"
            f"{' ' + marker if marker else ''}; {p.target.condition}; target {p.target.id})"
        )
    return f"Literature on {what}: " + "; ".join(parts) + "."
