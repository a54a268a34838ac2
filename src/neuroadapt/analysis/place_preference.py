"""Conditioned place preference (CPP) scores: the four common definitions, named.

Read from the tidy time-in-zone table of
:func:`neuroadapt.io.medpc.zones.read_zone_table` (``subject``, ``group``,
``phase``, ``zone``, ``time_s``, ``paired_zone``, ``vehicle_zone``,
``duration_s``). With ``D`` the time in the drug-paired compartment and
``V`` in the vehicle-paired one (Tzschentke 2007, Addict Biol 12:227-462,
reviews how papers score CPP; Bardo & Bevins 2000, Psychopharmacology
153:31-43):

``post_minus_pre_s``
    ``D_post - D_pre``: change in time on the drug-paired side from the
    pre-test (the "CPP score" of most rodent papers).
``difference_score_s``
    ``D_post - V_post``: drug-paired minus vehicle-paired time in the post-test.
``preference_ratio``
    ``D_post / (D_post + V_post)``: 0.5 is no preference (neutral zone excluded).
``percent_change``
    ``100 * (D_post - D_pre) / D_pre``: post-test change as % of the pre-test time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CPP_SCORES", "cpp_scores"]

#: Names of the four scores, in the order returned.
CPP_SCORES: tuple[str, ...] = (
    "post_minus_pre_s",
    "difference_score_s",
    "preference_ratio",
    "percent_change",
)


def cpp_scores(zones: pd.DataFrame, pre: str = "pre", post: str = "post") -> pd.DataFrame:
    """The four CPP scores for every subject that has both a pre- and a post-test.

    Parameters
    ----------
    zones
        Tidy time-in-zone table.
    pre, post
        Phase labels of the two tests (e.g. ``post="reinstatement"`` scores a
        reinstatement test against the pre-test).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``group``, ``drug_pre_s``, ``drug_post_s``,
        ``vehicle_post_s`` and :data:`CPP_SCORES`.

    Examples
    --------
    >>> z = pd.DataFrame({"subject": "r1", "group": "heroin", "phase": ["pre"] * 2 + ["post"] * 2,
    ...                   "zone": ["black", "white"] * 2, "time_s": [400., 500., 600., 300.],
    ...                   "paired_zone": "black", "vehicle_zone": "white", "duration_s": 900.})
    >>> cpp_scores(z)[list(CPP_SCORES)].iloc[0].tolist()
    [200.0, 300.0, 0.6666666666666666, 50.0]
    """
    rows = []
    for subject, d in zones.groupby("subject", sort=True):

        def side(phase: str, column: str, d=d) -> float:
            sel = d[(d["phase"] == phase) & (d["zone"] == d[column])]
            return float(sel["time_s"].sum()) if len(sel) else np.nan

        if not ((d["phase"] == pre).any() and (d["phase"] == post).any()):
            continue
        d_pre, d_post = side(pre, "paired_zone"), side(post, "paired_zone")
        v_post = side(post, "vehicle_zone")
        total = d_post + v_post
        rows.append(
            {
                "subject": subject,
                "group": d["group"].iloc[0],
                "drug_pre_s": d_pre,
                "drug_post_s": d_post,
                "vehicle_post_s": v_post,
                "post_minus_pre_s": d_post - d_pre,
                "difference_score_s": d_post - v_post,
                "preference_ratio": d_post / total if total else np.nan,
                "percent_change": 100.0 * (d_post - d_pre) / d_pre if d_pre else np.nan,
            }
        )
    return pd.DataFrame(rows)
