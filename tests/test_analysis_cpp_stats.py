"""CPP scores, the time-in-zone table and group statistics against closed forms and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from neuroadapt.analysis import CPP_SCORES, compare_groups, cpp_scores, group_summary, one_sample
from neuroadapt.analysis import paired as paired_test
from neuroadapt.io.medpc.zones import ZoneTableError, read_zone_table, write_zone_table


def zone_table():
    rows = []
    #          subject group  pre (black, white, centre) post (black, white, centre)
    for s, g, pre, post in [
        ("r1", "heroin", (300, 450, 150), (500, 300, 100)),
        ("r2", "heroin", (400, 400, 100), (600, 250, 50)),
        ("r3", "saline", (350, 400, 150), (340, 420, 140)),
        ("r4", "saline", (420, 380, 100), (400, 400, 100)),
    ]:
        for phase, day, times in (("pre", 1, pre), ("post", 10, post)):
            for zone, t in zip(("black", "white", "centre"), times, strict=True):
                rows.append((s, g, phase, day, "black", "white", 900.0, zone, float(t)))
    return pd.DataFrame(
        rows,
        columns=["subject", "group", "phase", "day", "paired_zone", "vehicle_zone",
                 "duration_s", "zone", "time_s"],
    )  # fmt: skip


def test_four_cpp_scores_closed_form():
    s = cpp_scores(zone_table()).set_index("subject")
    assert list(CPP_SCORES) == [c for c in s.columns if c in CPP_SCORES]
    assert s.loc["r1", "post_minus_pre_s"] == 200.0
    assert s.loc["r1", "difference_score_s"] == 200.0
    assert s.loc["r1", "preference_ratio"] == pytest.approx(500 / 800)
    assert s.loc["r1", "percent_change"] == pytest.approx(100 * 200 / 300)
    assert s.loc["r4", "post_minus_pre_s"] == -20.0 and s.loc["r4", "preference_ratio"] == 0.5


def test_zone_table_round_trip_and_errors(tmp_path):
    table = zone_table()
    path = write_zone_table(tmp_path / "cpp.csv", table)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert "Drug-paired zone" in header and "black : time (s)" in header
    back = read_zone_table(path)
    key = ["subject", "day", "phase", "zone"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True),
        table.sort_values(key).reset_index(drop=True)[back.columns],
        check_dtype=False,
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(path.read_text(encoding="utf-8").replace(",black,", ",grey,", 1))
    with pytest.raises(ZoneTableError, match="Drug-paired zone"):
        read_zone_table(bad)
    bad.write_text(path.read_text(encoding="utf-8").replace("600.0", "-1", 1))
    with pytest.raises(ZoneTableError, match="row"):
        read_zone_table(bad)


def test_welch_t_matches_scipy_and_hedges_g():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 8), rng.normal(13, 4, 11)
    t = pd.DataFrame({"group": ["a"] * 8 + ["b"] * 11, "x": np.r_[a, b]})
    r = compare_groups(t, "x").iloc[0]
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert r.test == "Welch's t-test" and r.statistic == pytest.approx(ref.statistic)
    assert r.p == pytest.approx(ref.pvalue)
    va, vb = a.var(ddof=1) / 8, b.var(ddof=1) / 11
    assert r.df == pytest.approx((va + vb) ** 2 / (va**2 / 7 + vb**2 / 10))
    sp = np.sqrt((7 * a.var(ddof=1) + 10 * b.var(ddof=1)) / 17)
    assert r.effect_size == pytest.approx((a.mean() - b.mean()) / sp * (1 - 3 / (4 * 19 - 9)))


def test_anova_matches_scipy_f_oneway():
    rng = np.random.default_rng(4)
    groups = [rng.normal(m, 1, 6) for m in (0, 1, 3)]
    t = pd.DataFrame({"g": np.repeat(["x", "y", "z"], 6), "v": np.concatenate(groups)})
    r = compare_groups(t, "v", "g").iloc[0]
    ref = sps.f_oneway(*groups)
    assert r.test == "one-way ANOVA" and (r.df, r.df2) == (2.0, 15.0)
    assert r.statistic == pytest.approx(ref.statistic) and r.p == pytest.approx(ref.pvalue)
    assert 0 < r.effect_size < 1 and r.effect_size_name == "eta squared"


def test_paired_and_one_sample_and_summary():
    before, after = np.array([10.0, 12, 9, 11]), np.array([20.0, 25, 15, 19])
    r = paired_test(before, after, "presses").iloc[0]
    assert r.df == 3 and r.statistic == pytest.approx(sps.ttest_rel(after, before).statistic)
    d = after - before
    assert r.effect_size == pytest.approx(d.mean() / d.std(ddof=1))
    scores = cpp_scores(zone_table())
    o = one_sample(scores.post_minus_pre_s, 0.0, "post_minus_pre_s").iloc[0]
    assert o.test == "one-sample t-test" and o.df == 3
    s = group_summary(scores, "post_minus_pre_s", "group").set_index("group")
    assert s.loc["heroin", "mean"] == 200.0 and s.loc["heroin", "sem"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="two or more groups"):
        compare_groups(scores[scores.group == "heroin"], "post_minus_pre_s")
