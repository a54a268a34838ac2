"""Life-course panels of the report: the decade of use and the follow-up after detoxification.

Read from what a life-course run wrote (the users' dataset, the subject
table, the overdose episodes); nothing is simulated. Variables read:

* dataset: ``dose_mg`` (habitual dose per use, mg), ``uses`` (doses since the
  previous record), ``mode`` (0 using, 1 abstaining, 2 held abstinent, 3 never
  used), ``alive``, ``arm`` and ``death_time`` (per subject), and the
  tolerance variables present among :data:`TOLERANCE_VARS`; the attribute
  ``lifecourse_plan`` gives the timeline;
* subject table: ``arm``, ``death_time_d``, ``first_lapse_d``, ``relapse_d``
  and, where the run wrote it, ``abstinent_again_d`` (days since the start);
* episodes: ``subject``, ``start_h`` (hours since the start), ``outcome``
  (``fatal`` or ``survived``).

Literature values beside the model come from the shipped target table
(:mod:`neuroadapt.report.literature`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.engine.lifecourse import HELD
from neuroadapt.engine.outcomes import kaplan_meier
from neuroadapt.model.behaviour import ABSTAINING, USING
from neuroadapt.report import literature as lit
from neuroadapt.report.cohort import TOLERANCE_VARS as PER_EFFECT_TOLERANCE
from neuroadapt.report.plotting import nan_quantiles, panel_grid, style_panel

__all__ = [
    "TOLERANCE_VARS",
    "Timeline",
    "abstinence_by_month",
    "after_detox_curves",
    "after_detox_figure",
    "daily_dose",
    "decade_figure",
    "overdoses_by_year",
    "overdose_year_figure",
    "timeline",
]

#: Tolerance variables drawn, in order, with their panel titles; ``tolerance_shift``
#: (the single 1 + U of older runs) only when neither of the other two exists.
TOLERANCE_VARS: tuple[tuple[str, str], ...] = (
    *((v, title.split(" (")[0]) for v, title in PER_EFFECT_TOLERANCE),
    ("tolerance_shift", "tolerance (1 + U)"),
)
ARM_COLOURS = {"continued use": "tab:red", "abstinence": "tab:green", "control": "black"}
ARM_NAMES = {"continued use": "continued-use arm", "abstinence": "detoxified arm"}
YEAR = lit.DAYS_PER_YEAR
MONTH = lit.DAYS_PER_MONTH
#: Days after discharge shown in the zoom of the lapse and relapse curves.
ZOOM_D = 60


@dataclass(frozen=True)
class Timeline:
    """Days of the life course: end of use, discharge from detoxification, last day."""

    use_days: float
    detox_days: float
    last_day: float

    @property
    def discharge(self) -> float:
        """Day of discharge from detoxification."""
        return self.use_days + self.detox_days

    @property
    def times(self) -> dict[str, float]:
        """Reference days for :func:`neuroadapt.report.literature.place`."""
        return {"start": 0.0, "end of use": self.use_days, "discharge": self.discharge}


def timeline(users: xr.Dataset, use_days: float | None = None) -> Timeline:
    """The timeline from ``users.attrs['lifecourse_plan']`` (else ``use_days``, no detox)."""
    plan: dict[str, Any] = {}
    text = users.attrs.get("lifecourse_plan")
    if text:
        try:
            plan = dict(ast.literal_eval(str(text)))
        except (ValueError, SyntaxError):
            plan = {}
    use = float(plan.get("use_days", use_days if use_days is not None else 0.0))
    detox = float(plan.get("detox_days", 0.0))
    last = float(use + plan["follow_up_days"]) if "follow_up_days" in plan else None
    if last is None:
        last = float(users.time.values[-1]) if users.sizes.get("time") else use
    return Timeline(use, detox, last)


#: Height (inches) below the panels of a figure whose legends sit under each panel.
LEGEND_BELOW_IN = 1.35


def legend_below(ax, ncol: int = 1) -> None:
    """The panel's legend under its x-axis label (long labels stay off the data)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles,
            labels,
            fontsize=7,
            ncol=ncol,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            frameon=False,
        )


def _empty(ax, why: str) -> None:
    """Say on the panel why it holds no model data."""
    ax.text(
        0.5,
        0.5,
        why,
        ha="center",
        va="center",
        transform=ax.transAxes,
        color="grey",
        fontsize=8,
        wrap=True,
    )


def _arm(users: xr.Dataset, name: str) -> np.ndarray:
    return users["arm"].values == name if "arm" in users else np.zeros(users.sizes["subject"], bool)


def _days(users: xr.Dataset) -> np.ndarray:
    return np.asarray(users.time.values, dtype=float)


def _alive(users: xr.Dataset) -> np.ndarray:
    if "alive" not in users:
        return np.ones((users.sizes["subject"], users.sizes["time"]), bool)
    return users["alive"].transpose("subject", "time").values > 0.5


def daily_dose(users: xr.Dataset) -> np.ndarray:
    """``subject x time`` mean daily dose (mg/day) over each record's span.

    ``dose_mg`` (the habitual dose per use at the record) times ``uses`` (doses
    since the previous record) over the days since the previous record; NaN for
    the first record, the dead and those not using regularly at the record.
    """
    t = _days(users)
    span = np.diff(t, prepend=np.nan)
    dose = users["dose_mg"].transpose("subject", "time").values.astype(float)
    uses = users["uses"].transpose("subject", "time").values.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = dose * uses / span
    keep = _alive(users)
    if "mode" in users:
        keep &= users["mode"].transpose("subject", "time").values == USING
    return np.where(keep & (span > 0), out, np.nan)


def _quantiles(x: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = nan_quantiles(x, q)
    out[:, ~np.isfinite(x).any(axis=0)] = np.nan
    return out


def _iqr(ax, t: np.ndarray, x: np.ndarray, colour: str, label: str, band: bool = True) -> bool:
    """Median and 25-75 % band; False when nothing is finite."""
    q = _quantiles(x, (0.25, 0.5, 0.75))
    if not np.isfinite(q[1]).any():
        return False
    if band:
        ax.fill_between(t, q[0], q[2], color=colour, alpha=0.22, lw=0)
    ax.plot(t, q[1], color=colour, lw=1.5, label=label)
    return True


def tolerance_vars(users: xr.Dataset) -> list[tuple[str, str]]:
    """The tolerance variables of :data:`TOLERANCE_VARS` this dataset has (see there)."""
    new = [(v, title) for v, title in TOLERANCE_VARS[:2] if v in users]
    if new:
        return new
    return [(v, title) for v, title in TOLERANCE_VARS[2:] if v in users]


def decade_figure(
    users: xr.Dataset, tl: Timeline, targets: Mapping[str, Any] | None = None
) -> tuple[Figure, list[lit.Placed]]:
    """Daily dose and each tolerance variable over the years (median, 25-75 %).

    Dose: people of the continued-use arm using regularly at each record.
    Tolerance: all users up to the end of use, then each arm (median; the
    detoxified arm's tolerance decays). Returns the figure and the literature drawn.
    """
    tol = tolerance_vars(users)
    fig, axes = panel_grid((13, 4.3), 1, 1 + max(len(tol), 1), wgap=0.85, bottom=LEGEND_BELOW_IN)
    axes = axes.ravel()
    t = _days(users)
    years = t / YEAR
    cont = _arm(users, "continued use")
    if not cont.any():  # no arms (older runs): everyone using
        cont = np.ones(users.sizes["subject"], bool)
    ax = axes[0]
    style_panel(ax, "A. Daily heroin dose of people who keep using")
    x = daily_dose(users)[cont]
    label = f"continued-use arm, median and 25-75 % (n = {int(cont.sum())})"
    if not _iqr(ax, years, x, "tab:blue", label):
        _empty(ax, "nobody of the arm was using regularly at a record")
    placed = lit.place("daily_dose", tl.times, tl.last_day, targets)
    lit.draw(ax, placed, YEAR)
    ax.axvline(tl.use_days / YEAR, color="grey", ls=":", lw=1)
    ax.set(xlabel="years since the start of use", ylabel="mg of heroin per day", ylim=(0, None))
    legend_below(ax)
    for ax, (var, title) in zip(axes[1:], tol, strict=False):
        letter = "BCD"[list(axes[1:]).index(ax)]
        style_panel(ax, f"{letter}. {title}")
        y = users[var].transpose("subject", "time").values.astype(float)
        y = np.where(_alive(users), y, np.nan)
        upto = t <= tl.use_days + 1e-9
        n = users.sizes["subject"]
        _iqr(ax, years[upto], y[:, upto], "tab:purple", f"all users (n = {n})")
        for arm, colour in (("continued use", "tab:red"), ("abstinence", "tab:green")):
            sel = _arm(users, arm)
            if sel.any():
                after = t >= tl.use_days - 1e-9
                _iqr(
                    ax,
                    years[after],
                    y[sel][:, after],
                    colour,
                    f"{ARM_NAMES[arm]} (n = {int(sel.sum())})",
                    band=False,
                )
        if "mode" in users and _arm(users, "abstinence").any():
            sel = _arm(users, "abstinence")
            mode = users["mode"].transpose("subject", "time").values[sel]
            still = np.where((mode == ABSTAINING) | (mode == HELD), y[sel], np.nan)
            after = t >= tl.use_days - 1e-9
            _iqr(
                ax,
                years[after],
                still[:, after],
                "tab:olive",
                f"detoxified arm, those abstinent at the record (n = {int(sel.sum())})",
                band=False,
            )
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.axvline(tl.use_days / YEAR, color="grey", ls=":", lw=1)
        ax.set(
            xlabel="years since the start of use", ylabel="fold right-shift of the dose-response"
        )
        legend_below(ax)
    if not tol:
        axes[1].text(
            0.5,
            0.5,
            "no tolerance variable recorded",
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            color="grey",
        )
        axes[1].set_axis_off()
    return fig, placed


def overdoses_by_year(users: xr.Dataset, episodes: pd.DataFrame, tl: Timeline) -> pd.DataFrame:
    """Overdoses per complete year since the start, by arm.

    Columns: ``year, arm, subjects`` (alive at the start of the year), ``fatal``,
    ``nonfatal`` (episodes), ``people_nonfatal`` (people with at least one
    non-fatal overdose that year) and ``pct_nonfatal`` (of those alive at the start).
    """
    subj = pd.Series(users["arm"].values, index=users.subject.values)
    death = pd.Series(users["death_time"].values.astype(float), index=users.subject.values)
    ep = episodes.copy()
    ep["year"] = np.floor(ep["start_h"].to_numpy(dtype=float) / 24.0 / YEAR).astype(int) + 1
    ep["arm"] = ep["subject"].map(subj)
    rows = []
    for y in range(1, int(np.floor(tl.last_day / YEAR + 0.01)) + 1):
        t0 = (y - 1) * YEAR
        cur = ep[ep["year"] == y]
        for arm in ("continued use", "abstinence"):
            ids = subj.index[(subj == arm).to_numpy()]
            at_risk = ids[~(death[ids].to_numpy() < t0)]
            mine = cur[cur["subject"].isin(at_risk)]
            nonfatal = mine[mine["outcome"] == "survived"]
            people = int(nonfatal["subject"].nunique())
            rows.append(
                {
                    "year": y,
                    "arm": arm,
                    "subjects": int(len(at_risk)),
                    "fatal": int((mine["outcome"] == "fatal").sum()),
                    "nonfatal": int(len(nonfatal)),
                    "people_nonfatal": people,
                    "pct_nonfatal": 100.0 * people / len(at_risk) if len(at_risk) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def overdose_year_figure(
    table: pd.DataFrame, tl: Timeline, targets: Mapping[str, Any] | None = None
) -> tuple[Figure, list[lit.Placed]]:
    """Overdoses per year (fatal, non-fatal) and % of the living with a non-fatal one."""
    fig, axes = panel_grid((13, 4.3), 1, 2, wgap=0.9, bottom=LEGEND_BELOW_IN)
    ax = axes[0, 0]
    by_year = table.groupby("year").sum(numeric_only=True)
    n0 = int(table[table["year"] == 1]["subjects"].sum()) if len(table) else 0
    style_panel(ax, f"A. Overdoses of users (n = {n0}) per year")
    ax.bar(by_year.index, by_year["nonfatal"], color="tab:orange", label="non-fatal")
    ax.bar(
        by_year.index, by_year["fatal"], bottom=by_year["nonfatal"], color="tab:red", label="fatal"
    )
    ax.axvline(tl.use_days / YEAR + 0.5, color="grey", ls=":", lw=1)
    top = float((by_year["nonfatal"] + by_year["fatal"]).max()) if len(by_year) else 1.0
    ax.set(
        xlabel="year since the start of use (dotted: end of use)",
        ylabel="overdose episodes",
        ylim=(0, 1.3 * max(top, 1.0)),
    )
    for year, row in by_year.iterrows():
        if row["fatal"] > 0:
            ax.text(
                year,
                row["fatal"] + row["nonfatal"],
                f"{int(row['fatal'])}",
                ha="center",
                va="bottom",
                fontsize=7,
                color="tab:red",
            )
    legend_below(ax, ncol=2)
    ax = axes[0, 1]
    style_panel(ax, "B. People with a non-fatal overdose in the year")
    for arm, cur in table.groupby("arm", sort=False):
        n = int(cur[cur["year"] == 1]["subjects"].sum())
        ax.plot(
            cur["year"] - 0.5,
            cur["pct_nonfatal"],
            marker="o",
            ms=3.5,
            color=ARM_COLOURS.get(arm),
            label=f"{ARM_NAMES.get(arm, arm)} (n = {n})",
        )
    placed = lit.place("nonfatal_overdose", tl.times, tl.last_day, targets)
    lit.draw(ax, placed, YEAR)
    ax.axvline(tl.use_days / YEAR, color="grey", ls=":", lw=1)
    top = float(np.nanmax(table["pct_nonfatal"].to_numpy(dtype=float), initial=1.0))
    top = max([top, *(p.high if np.isfinite(p.high) else p.y for p in placed)])
    ax.set(
        xlabel="years since the start of use",
        ylabel="% of those alive at the start of the year",
        ylim=(0, 1.3 * max(top, 1.0)),
    )
    legend_below(ax)
    return fig, placed


def _detoxified(subjects: pd.DataFrame, tl: Timeline) -> pd.DataFrame:
    ab = subjects[subjects["arm"] == "abstinence"]
    return ab[~(ab["death_time_d"].to_numpy(dtype=float) < tl.discharge)]


def after_detox_curves(
    subjects: pd.DataFrame, tl: Timeline
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Kaplan-Meier cumulative incidence of lapse and relapse after discharge.

    People of the detoxified arm alive at discharge; death and the end of
    follow-up censor. Returns ``{"lapse"|"relapse": (days since discharge, 1 - S)}``.
    """
    ab = _detoxified(subjects, tl)
    follow = tl.last_day - tl.discharge
    death = ab["death_time_d"].to_numpy(dtype=float) - tl.discharge
    censor = np.minimum(np.where(np.isnan(death), np.inf, death), follow)
    out = {}
    for what, col in (("lapse", "first_lapse_d"), ("relapse", "relapse_d")):
        if col not in ab:
            continue
        t = ab[col].to_numpy(dtype=float) - tl.discharge
        event = np.isfinite(t)
        ts, s = kaplan_meier(np.where(event, np.maximum(t, 0.0), censor), event)
        if ts[-1] < follow:
            ts, s = np.r_[ts, follow], np.r_[s, s[-1]]
        out[what] = (ts, 1.0 - s)
    return out


def abstinence_by_month(users: xr.Dataset, subjects: pd.DataFrame, tl: Timeline) -> pd.DataFrame:
    """Share of the detoxified arm abstinent, and of its relapsers abstinent again, by record.

    ``abstinent``: living people of the detoxified arm abstaining or held
    abstinent (``mode`` 1 or 2; single lapses do not end abstinence) over those
    alive. ``abstinent_again`` (only with a subject column ``abstinent_again_d``):
    of the living who had relapsed by then, those abstinent again since.
    """
    t = _days(users)
    after = t >= tl.discharge - 1e-9
    arm = _arm(users, "abstinence")
    alive = _alive(users)[arm][:, after]
    mode = users["mode"].transpose("subject", "time").values[arm][:, after]
    abst = ((mode == ABSTAINING) | (mode == HELD)) & alive
    n_alive = alive.sum(axis=0)
    out = pd.DataFrame(
        {
            "months_since_discharge": (t[after] - tl.discharge) / MONTH,
            "alive": n_alive,
            "abstinent": np.where(n_alive > 0, abst.sum(axis=0) / np.maximum(n_alive, 1), np.nan),
        }
    )
    if "abstinent_again_d" in subjects:
        ab = subjects.set_index("subject").reindex(users.subject.values[arm])
        rel = ab["relapse_d"].to_numpy(dtype=float)[:, None]
        again = ab["abstinent_again_d"].to_numpy(dtype=float)[:, None]
        days = t[after][None, :]
        relapsed = (rel <= days) & alive
        back = relapsed & (again <= days)
        n_rel = relapsed.sum(axis=0)
        out["relapsed"] = n_rel
        out["abstinent_again"] = np.where(
            n_rel > 0, back.sum(axis=0) / np.maximum(n_rel, 1), np.nan
        )
    return out


def after_detox_figure(
    users: xr.Dataset,
    subjects: pd.DataFrame,
    tl: Timeline,
    targets: Mapping[str, Any] | None = None,
) -> tuple[Figure, list[lit.Placed], pd.DataFrame]:
    """Time to lapse and relapse (Kaplan-Meier) and the share abstinent, by month."""
    fig, axes = panel_grid((13, 4.4), 1, 3, wgap=0.85, bottom=LEGEND_BELOW_IN)
    axes = axes.ravel()
    curves = after_detox_curves(subjects, tl)
    n = len(_detoxified(subjects, tl))
    placed_all: list[lit.Placed] = []
    for ax, (what, letter) in zip(axes[:2], (("lapse", "A"), ("relapse", "B")), strict=True):
        title = "first lapse (one use)" if what == "lapse" else "relapse (3 use days in 7)"
        style_panel(ax, f"{letter}. Time to {title}")
        if what in curves:
            ts, inc = curves[what]
            ax.step(
                ts / MONTH,
                inc,
                where="post",
                color="tab:orange" if what == "lapse" else "tab:red",
                label=f"detoxified arm, Kaplan-Meier (n = {n})",
            )
        else:
            col = "first_lapse_d" if what == "lapse" else "relapse_d"
            _empty(ax, f"the subject table has no '{col}'")
        placed = lit.place(what, tl.times, tl.last_day, targets) if what in curves else []
        lit.draw(ax, placed, MONTH, tl.discharge)
        placed_all += placed
        if what in curves:  # most events fall in the first weeks: a zoom in days
            zoom = ax.inset_axes((0.42, 0.2, 0.54, 0.45))
            ts, inc = curves[what]
            zoom.step(ts, inc, where="post", color=ax.get_lines()[0].get_color())
            lit.draw(
                zoom, [p for p in placed if p.first_d - tl.discharge <= ZOOM_D], 1.0, tl.discharge
            )
            zoom.set_xlim(0, ZOOM_D)
            zoom.set_ylim(0, 1.05)
            zoom.set_xlabel(f"days since discharge (first {ZOOM_D})", fontsize=7)
            zoom.tick_params(labelsize=6.5)
            zoom.grid(alpha=0.25)
        ax.set(
            xlabel="months since discharge from detoxification",
            ylabel="cumulative incidence",
            ylim=(0, 1.05),
            xlim=(0, (tl.last_day - tl.discharge) / MONTH),
        )
        legend_below(ax)
    ax = axes[2]
    style_panel(ax, "C. Abstinent, by month of follow-up")
    table = abstinence_by_month(users, subjects, tl)
    ax.plot(
        table["months_since_discharge"],
        table["abstinent"],
        color="tab:green",
        marker="o",
        ms=3,
        label=f"detoxified arm, share of the living (n = {n})",
    )
    if "abstinent_again" in table:
        n_rel = int(subjects.loc[subjects["arm"] == "abstinence", "relapse_d"].notna().sum())
        ax.plot(
            table["months_since_discharge"],
            table["abstinent_again"],
            color="tab:brown",
            marker="s",
            ms=3,
            label=f"relapsers abstinent again (n = {n_rel})",
        )
    placed = lit.place("abstinent", tl.times, tl.last_day, targets)
    lit.draw(ax, placed, MONTH, tl.discharge)
    placed_all += placed
    ax.set(
        xlabel="months since discharge from detoxification",
        ylabel="share of the living",
        ylim=(0, 1.05),
        xlim=(0, (tl.last_day - tl.discharge) / MONTH),
    )
    legend_below(ax)
    return fig, placed_all, table
