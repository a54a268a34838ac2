"""Lab figures are drawn from the analysis tables: lines, error bars and points match the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroadapt.analysis import cumulative_record, group_summary
from neuroadapt.report.lab import (
    cumulative_records_figure,
    group_means_figure,
    sessions_over_days_figure,
)


def test_cumulative_records_one_step_line_per_session(tmp_path):
    ev = pd.DataFrame(
        {"session": [0, 0, 0, 1], "time_s": [60.0, 120.0, 600.0, 30.0], "role": "active_press"}
    )
    fig = cumulative_records_figure(cumulative_record(ev), labels={0: "R1 day 1"})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and lines[0].get_label() == "R1 day 1"
    assert lines[0].get_ydata().tolist() == [0, 1, 2, 3]
    assert lines[0].get_xdata().tolist() == [0.0, 1.0, 2.0, 10.0]
    fig.savefig(tmp_path / "cr.png")
    assert (tmp_path / "cr.png").stat().st_size > 1000
    with pytest.raises(ValueError):
        cumulative_records_figure(cumulative_record(ev.iloc[:0]))


def test_sessions_over_days_and_group_means():
    rng = np.random.default_rng(0)
    daily = pd.DataFrame(
        {
            "subject": np.tile([f"r{i}" for i in range(6)], 3),
            "group": np.tile(["ShA"] * 3 + ["LgA"] * 3, 3),
            "day": np.repeat([1, 2, 3], 6),
            "infusions": rng.poisson(20, 18),
        }
    )
    fig = sessions_over_days_figure(daily, "infusions", ylabel="infusions")
    ax = fig.axes[0]
    assert len(ax.containers) == 2  # one errorbar series per group
    means = group_summary(daily, "infusions", ["group", "day"])
    lga = ax.containers[0].lines[0].get_ydata()
    assert np.allclose(lga, means[means.group == "LgA"]["mean"])
    fig = group_means_figure(daily[daily.day == 3], "infusions")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert np.allclose(heights, group_summary(daily[daily.day == 3], "infusions", "group")["mean"])
    assert sum(len(ln.get_xdata()) for ln in ax.get_lines() if ln.get_marker() == "o") == 6
