"""Group statistics with the test named in the result.

Every function returns a tidy table with ``measure``, ``test``,
``statistic``, ``df`` (and ``df2`` for F), ``p``, ``effect_size`` and
``effect_size_name``, so a report can print the test it ran:

* two independent groups — Welch's t-test (unequal variances;
  statsmodels ``ttest_ind(usevar="unequal")``), Hedges' g;
* three or more groups — one-way ANOVA (statsmodels OLS + ``anova_lm``),
  eta squared;
* paired conditions (e.g. extinction baseline vs reinstatement test) —
  paired t-test, Cohen's d_z;
* one sample against a reference (e.g. CPP score against 0) — one-sample
  t-test, Cohen's d.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.weightstats import ttest_ind

__all__ = ["compare_groups", "group_summary", "one_sample", "paired"]


def group_summary(table: pd.DataFrame, value: str, by: str | list[str]) -> pd.DataFrame:
    """Mean, SEM (``sd / sqrt(n)``), SD and n of ``value`` per group."""
    g = table.groupby(by, sort=True)[value]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    return out


def _row(measure: str, test: str, groups: str, n: int, stat, df, p, es, es_name, df2=np.nan):
    return {
        "measure": measure,
        "test": test,
        "groups": groups,
        "n": n,
        "statistic": float(stat),
        "df": float(df),
        "df2": float(df2),
        "p": float(p),
        "effect_size": float(es),
        "effect_size_name": es_name,
    }


def compare_groups(table: pd.DataFrame, value: str, group: str = "group") -> pd.DataFrame:
    """Compare ``value`` between the levels of ``group`` (Welch's t or one-way ANOVA).

    Raises
    ------
    ValueError
        Fewer than two groups, or a group with fewer than two observations.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a"] * 3 + ["b"] * 3, "x": [1., 2., 3., 5., 6., 7.]})
    >>> r = compare_groups(t, "x").iloc[0]
    >>> r.test, round(float(r.statistic), 3), round(float(r.df), 1)
    ("Welch's t-test", -4.899, 4.0)
    """
    data = table[[group, value]].dropna()
    levels = sorted(data[group].unique(), key=str)
    samples = [data.loc[data[group] == lv, value].to_numpy(float) for lv in levels]
    if len(levels) < 2 or min(len(s) for s in samples) < 2:
        raise ValueError(f"'{value}': need two or more groups with at least two values each")
    names = " vs ".join(str(lv) for lv in levels)
    if len(levels) == 2:
        a, b = samples
        t, p, df = ttest_ind(a, b, usevar="unequal")
        na, nb = len(a), len(b)
        sp = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
        d = (a.mean() - b.mean()) / sp if sp else np.nan
        g = d * (1 - 3 / (4 * (na + nb) - 9))
        return pd.DataFrame(
            [_row(value, "Welch's t-test", names, na + nb, t, df, p, g, "Hedges' g")]
        )
    frame = pd.DataFrame({"y": data[value].to_numpy(float), "g": data[group].astype(str)})
    aov = anova_lm(ols("y ~ C(g)", data=frame).fit(), typ=2)
    ss_effect, ss_resid = aov.loc["C(g)", "sum_sq"], aov.loc["Residual", "sum_sq"]
    eta2 = ss_effect / (ss_effect + ss_resid)
    return pd.DataFrame(
        [
            _row(
                value,
                "one-way ANOVA",
                names,
                len(frame),
                aov.loc["C(g)", "F"],
                aov.loc["C(g)", "df"],
                aov.loc["C(g)", "PR(>F)"],
                eta2,
                "eta squared",
                df2=aov.loc["Residual", "df"],
            )
        ]
    )


def paired(before: np.ndarray, after: np.ndarray, measure: str = "value") -> pd.DataFrame:
    """Paired t-test of ``after - before`` (same subjects, same order); Cohen's d_z."""
    a, b = np.asarray(before, float), np.asarray(after, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 2:
        raise ValueError(f"'{measure}': need at least two complete pairs")
    res = sps.ttest_rel(b, a)
    diff = b - a
    dz = diff.mean() / diff.std(ddof=1) if diff.std(ddof=1) else np.nan
    return pd.DataFrame(
        [
            _row(
                measure,
                "paired t-test",
                "after vs before",
                a.size,
                res.statistic,
                a.size - 1,
                res.pvalue,
                dz,
                "Cohen's d_z",
            )
        ]
    )


def one_sample(values: np.ndarray, reference: float = 0.0, measure: str = "value") -> pd.DataFrame:
    """One-sample t-test of ``values`` against ``reference``; Cohen's d."""
    x = np.asarray(values, float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        raise ValueError(f"'{measure}': need at least two values")
    res = sps.ttest_1samp(x, reference)
    sd = x.std(ddof=1)
    d = (x.mean() - reference) / sd if sd else np.nan
    return pd.DataFrame(
        [
            _row(
                measure,
                "one-sample t-test",
                f"vs {reference:g}",
                x.size,
                res.statistic,
                x.size - 1,
                res.pvalue,
                d,
                "Cohen's d",
            )
        ]
    )
