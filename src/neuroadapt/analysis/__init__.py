"""Analysis of operant and place-preference data, the same for real and simulated sessions.

Functions read tidy tables — the event table of
:func:`neuroadapt.io.medpc.events_table` and the time-in-zone table of
:func:`neuroadapt.io.medpc.zones.read_zone_table` — and return tidy tables.
The statistics of the report's brain sections live beside them:
:mod:`neuroadapt.analysis.effects` (Cohen's d of users vs controls with
bootstrap intervals) and :mod:`neuroadapt.analysis.brain` (living subjects,
end of use, regional effects and recovery curves of simulated brain
trajectories).
"""

from neuroadapt.analysis.extinction import extinction_criterion as extinction_criterion
from neuroadapt.analysis.extinction import reinstatement as reinstatement
from neuroadapt.analysis.operant import component_metrics as component_metrics
from neuroadapt.analysis.operant import component_table as component_table
from neuroadapt.analysis.operant import cumulative_record as cumulative_record
from neuroadapt.analysis.operant import hourly_bins as hourly_bins
from neuroadapt.analysis.operant import inter_infusion_intervals as inter_infusion_intervals
from neuroadapt.analysis.operant import session_metrics as session_metrics
from neuroadapt.analysis.operant import timeout_presses as timeout_presses
from neuroadapt.analysis.place_preference import CPP_SCORES as CPP_SCORES
from neuroadapt.analysis.place_preference import cpp_scores as cpp_scores
from neuroadapt.analysis.progressive_ratio import breakpoints as breakpoints
from neuroadapt.analysis.progressive_ratio import richardson_roberts as richardson_roberts
from neuroadapt.analysis.stats import compare_groups as compare_groups
from neuroadapt.analysis.stats import group_summary as group_summary
from neuroadapt.analysis.stats import one_sample as one_sample
from neuroadapt.analysis.stats import paired as paired

__all__ = [
    "CPP_SCORES",
    "breakpoints",
    "compare_groups",
    "component_metrics",
    "component_table",
    "cpp_scores",
    "cumulative_record",
    "extinction_criterion",
    "group_summary",
    "hourly_bins",
    "inter_infusion_intervals",
    "one_sample",
    "paired",
    "reinstatement",
    "richardson_roberts",
    "session_metrics",
    "timeout_presses",
]
