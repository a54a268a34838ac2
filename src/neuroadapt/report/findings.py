"""How the brain sections read the model against published findings (region, time, test).

The findings themselves are rows of the shipped target table
(:func:`neuroadapt.evidence.targets.load_targets`): their text, values and
sources are read from it. This module holds what the table does not: which
model regions and variable stand for a study's, at what time point of a
life course the model is read, and what counts as a match
(:data:`STRUCTURE_FINDINGS`); and, for the cognitive domains, the range of
Cohen's d a qualitative finding ("medium effect", "no deficit") is read as
(:func:`cognition_literature`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from neuroadapt.analysis.brain import GM, GM_DENSITY
from neuroadapt.evidence.targets import load_targets
from neuroadapt.model import structure

__all__ = [
    "D_SIGNIFICANT",
    "STRUCTURE_FINDINGS",
    "Finding",
    "cognition_literature",
    "target_row",
]

#: |d| below this is "no significant difference" in a typical study of ~30 per group.
D_SIGNIFICANT = 0.5


@dataclass(frozen=True)
class Finding:
    """A structural finding of the literature (a target row) and how the model is read against it.

    ``when`` is ``"end"`` (end of use), ``"end+30"`` (1 month abstinent) or
    ``"last"`` (the last recorded day); ``expect`` is ``"lower"`` (per region),
    ``"progressive"`` (larger at the end of use than half-way), ``"partial"``
    (smaller at 1 month than at 3 days abstinent) or ``"wollman"`` (only the
    precuneus remains lower).
    """

    target: str
    regions: tuple[str, ...]
    method: str
    var: str
    when: str
    expect: str


STRUCTURE_FINDINGS: tuple[Finding, ...] = (
    Finding(
        "str_gm_density_lower_lyoo",
        ("prefrontal cortex", "insula", "temporal cortex"),
        "VBM (gray-matter density)",
        GM_DENSITY,
        "end",
        "lower",
    ),
    Finding(
        "str_nacc_volume_seifert",
        ("nucleus accumbens",),
        "volumetry (3 T MRI)",
        GM,
        "end",
        "lower",
    ),
    Finding(
        "str_insula_putamen_bach",
        ("insula", "putamen"),
        "VBM (gray-matter volume)",
        GM,
        "end",
        "lower",
    ),
    Finding(
        "str_insula_postmortem_muller",
        ("insula",),
        "post-mortem volumetry",
        GM,
        "end",
        "lower",
    ),
    Finding(
        "str_gm_duration_yuan",
        ("prefrontal cortex", "anterior cingulate", "temporal cortex"),
        "VBM (gray-matter density)",
        GM_DENSITY,
        "end",
        "progressive",
    ),
    Finding(
        "str_gm_recovery_wang2012",
        ("prefrontal cortex", "anterior cingulate"),
        "VBM (gray-matter density), 3 days vs 1 month abstinent",
        GM_DENSITY,
        "end+30",
        "partial",
    ),
    Finding(
        "str_meta_abstinence_wollman",
        structure.REGIONS,
        "VBM meta-regression (12 studies)",
        GM,
        "last",
        "wollman",
    ),
)


def target_row(target: str) -> dict[str, Any]:
    """A shipped target as the fields of a calibration row it fills (empty if not a target).

    ``quantity``, ``literature``, ``source`` and ``ref``, as the calibration
    writes them, for a finding whose calibration row is missing.
    """
    t = load_targets().get(target)
    if t is None:
        return {}
    return {
        "quantity": t.quantity,
        "literature": t.literature_text(),
        "source": t.source,
        "ref": t.ref,
    }


@cache
def cognition_literature() -> dict[str, tuple[str, float | None, float | None, str]]:
    """Literature on cognitive domains: domain -> (text, low d, high d, calibration target).

    Negative d = users worse; None bounds: no range given (drawn as a label
    only). The risky decision-making SMD and its 95 % CI are the target row's
    value, low and high (the domain is left out without that row); the other
    ranges are how this report reads a qualitative finding of a meta-analysis
    (Baldacchino 2012's "medium effect" as d -0.9 to -0.3; Wollman 2019's
    "none in processing speed" as |d| <= 0.1).
    """
    out: dict[str, tuple[str, float | None, float | None, str]] = {}
    chen = load_targets().get("cog_risky_dm_smd_chen")
    if chen is not None:
        out["decision_making"] = (
            f"risky decision making SMD {chen.value:.2f} "
            f"(95 % CI {chen.low:.2f} to {chen.high:.2f})",
            chen.low,
            chen.high,
            chen.id,
        )
    out |= {
        "verbal_working_memory": ("medium effect", -0.9, -0.3, "cog_domains_baldacchino"),
        "verbal_fluency": (
            "medium effect (cognitive flexibility)",
            -0.9,
            -0.3,
            "cog_domains_baldacchino",
        ),
        "complex_psychomotor": (
            "largest deficit of all domains",
            None,
            None,
            "cog_psychomotor_largest_wollman",
        ),
        "processing_speed": ("no deficit", -0.1, 0.1, "cog_psychomotor_largest_wollman"),
    }
    return out
