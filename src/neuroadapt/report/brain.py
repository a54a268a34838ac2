"""The brain sections of the report: structure, neurotransmitters, inflammation, cognition.

:func:`brain_sections` assembles the six sections of :data:`BRAIN_SECTIONS`
as blocks (:mod:`neuroadapt.report.blocks`) from the brain trajectories
handed in (the users' cohort dataset and, when the scenario had matched
controls, the controls' dataset); nothing is simulated. The statistics are
those of :mod:`neuroadapt.analysis.brain` and
:mod:`neuroadapt.analysis.effects` (end of use, Cohen's d with bootstrap
intervals), the tables those of :mod:`neuroadapt.report.brain_tables`, the
figures those of :mod:`neuroadapt.report.brain_figures`, and the reading of
the literature that of :mod:`neuroadapt.report.findings`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from neuroadapt.analysis.brain import (
    COG,
    FA,
    GM,
    USE_THRESHOLD,
    Arm,
    end_of_use,
    has_brain,
    recovery_curves,
    region_effects,
    series,
    time_days,
    time_index,
)
from neuroadapt.analysis.effects import BOOT_SEED, N_BOOT
from neuroadapt.report import literature
from neuroadapt.report.blocks import (
    Block,
    description_block,
    image_block,
    literature_blocks,
    note_block,
    paragraph_block,
    table_block,
)
from neuroadapt.report.brain_figures import (
    ARM_COLORS,
    INFLAMMATION_PANELS,
    NEURO_PANELS,
    cognition_figure,
    figure_literature,
    gm_trajectory_figure,
    inflammation_figure,
    neurotransmitter_figure,
    recovery_figure,
    white_matter_figure,
)
from neuroadapt.report.brain_tables import injury_counts, pop_sd, recovery_table, structure_table
from neuroadapt.report.findings import D_SIGNIFICANT, cognition_literature
from neuroadapt.report.plotting import COLORS

__all__ = ["BRAIN_HEADINGS", "BRAIN_SECTIONS", "brain_sections"]

#: The brain sections: ``(id, title)``.
BRAIN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("brain-structure", "Structural and functional abnormalities"),
    ("neurotransmitters", "Neurotransmitter dysregulation"),
    ("signalling-pathway", "The signalling pathway"),
    ("neuroinflammation", "Neuroinflammation"),
    ("cognition", "Cognitive and neurological consequences"),
    ("recovery", "Recovery with abstinence"),
)
BRAIN_HEADINGS: tuple[str, ...] = tuple(title for _, title in BRAIN_SECTIONS)


def _fmt_day(day: float) -> str:
    return f"day {day:g}" + (f" ({day / 365.25:.1f} years)" if day >= 365 else "")


def _comparison_text(controls: Arm | None) -> str:
    if controls is not None:
        return (
            f"Users are compared with the matched drug-free {controls.label}, simulated "
            "with the same covariates and their own parameter draws."
        )
    return (
        "No matched controls were simulated (cohort.controls = 0): users are compared "
        "with the matched-control value itself (gray-matter volume and FA are already "
        "fractions of a matched control's, so 1.0; cognitive z 0), with no control "
        "variance beyond the population SD."
    )


def _groups_text(users: Arm, arms: Sequence[Arm], later: Arm | None) -> str:
    """Who each figure and table reads, with the n of every group."""
    if not arms:
        return f"Figures and tables read all {users.label}; the living enter each statistic."
    text = (
        f"Figures show all {users.label} up to the end of use and then, separately, the "
        f"people alive at the end of use by what they did afterwards: "
        + "; ".join(a.label for a in arms)
        + ". Tables at the end of use read every user alive on that day"
    )
    if later is not None:
        text += (
            f"; findings after the end of use (abstinence) and the recovery section read "
            f"the {later.label}"
        )
    return text + "."


def brain_sections(
    users: xr.Dataset,
    controls: xr.Dataset | None,
    calibration: Sequence[Mapping[str, Any]],
    params: Any,
    cite: Callable[[str, str], str] = lambda s, u: "",
    pathway_anchor: str | None = None,
    end: float | None = None,
    arms: Mapping[str, xr.Dataset] | None = None,
    recovering: tuple[str, xr.Dataset] | None = None,
) -> list[dict[str, Any]]:
    """The six brain sections (:data:`BRAIN_SECTIONS`) as ``{"id", "title", "blocks"}`` dicts.

    Without brain variables each section holds one note saying why. ``end``
    gives the day use ended (life courses); by default it is found from the
    daily MOR activation. ``arms`` (name -> dataset, subsets of ``users``) are
    drawn separately after ``end``; ``recovering`` (name, dataset) is the group
    recovery with abstinence is read from (default: all users). Every group is
    labelled with its n.
    """
    if not has_brain(users):
        why = (
            "The cohort dataset holds no brain-scale variables (they are integrated on the "
            "daily clock for human cohorts recorded every 1 d; rat scenarios and other "
            "record intervals have none)."
        )
        return [{"id": i, "title": h, "blocks": [note_block(why)]} for i, h in BRAIN_SECTIONS]
    u = Arm("users", users)
    c = Arm("controls", controls) if controls is not None and has_brain(controls) else None
    split = [Arm(k, v) for k, v in (arms or {}).items() if has_brain(v)]
    later = Arm(*recovering) if recovering is not None else None
    rec = later or u
    given = end is not None
    end = end_of_use(users) if end is None else end
    last = float(time_days(users)[-1])
    if end is None:
        end_txt = "no use was recorded, so there is no end of use"
    elif given:
        end_txt = f"end of use: {_fmt_day(end)}, when the detoxified arm stopped"
    else:
        end_txt = (
            f"end of use: {_fmt_day(end)}, the last day on which any living subject's daily "
            f"mean MOR activation exceeded {100 * USE_THRESHOLD:g} % of the cohort's peak"
        )
    comp = f"{_comparison_text(c)} {_groups_text(u, split, later)}"
    eff_txt = (
        "Cohen's d is the users' mean minus the controls' mean over the users' population SD, "
        "sqrt(SD_pop^2 + between-subject variance of the simulated users), where SD_pop is the "
        "between-person spread the model does not simulate (str_population_cv for gray "
        "matter, wm_population_cv for FA, 1 for cognitive z) — the convention of the "
        "calibration checks; negative d means users are lower. Brackets: 90 % interval, the "
        f"5-95 % of {N_BOOT} bootstrap resamples over subjects (seed {BOOT_SEED}), i.e. the "
        "spread from between-subject parameter variability in a cohort of this size."
    )
    band_txt = (
        f"{u.label[0].upper()}{u.label[1:]}: median and 5-95 % band over the living"
        + (" up to the end of use, then each arm's median (legend)" if split else "")
        + (f"; grey line: {c.label} median" if c is not None else "")
        + "; dotted line: end of use."
    )
    sections: list[dict[str, Any]] = []

    def add(k: int, blocks: list[Block]) -> None:
        sections.append(
            {"id": BRAIN_SECTIONS[k][0], "title": BRAIN_SECTIONS[k][1], "blocks": blocks}
        )

    # 1 structure
    blocks: list[Block] = [paragraph_block(f"{comp} {end_txt[0].upper()}{end_txt[1:]}.")]
    rows = structure_table(u, c, calibration, params, cite, end=end, later=later) if end else []
    if rows:
        blocks += [
            table_block(
                (
                    "region",
                    "observed change in the literature",
                    "method",
                    "reference",
                    "model time point and group",
                    "model Cohen's d (90 %)",
                    "model % difference of the mean (90 %)",
                    "matches the literature",
                    "calibration verdict",
                ),
                rows,
            ),
            description_block(
                f"Model columns: gray-matter volume (density for VBM density studies) of "
                f"this run's cohort. {eff_txt} 'Matches': the 90 % interval of d lies below 0 "
                "for a reported reduction; for the Wollman 2017 meta-regression, precuneus "
                f"d <= -{D_SIGNIFICANT} and every other region |d| < {D_SIGNIFICANT} at the "
                "last recorded day; for Yuan 2009, d larger at the end of use than half-way; "
                "for Wang 2012, d smaller at 1 month than at 3 days of abstinence. The "
                "calibration verdict is the check under the study's own protocol (10 years "
                "of use), not this run."
            ),
        ]
    elif GM in users:
        blocks.append(note_block("No use was recorded, so there is no end-of-use comparison."))
    if GM in users:
        blocks += [
            image_block(gm_trajectory_figure(u, c, end, split), "regional gray matter"),
            description_block(
                "Regional gray-matter volume (fraction of a matched control's) over the whole "
                f"run, including recovery after use stops. {band_txt} "
                + literature.caption(
                    figure_literature(users, [GM], end), cite, "gray-matter volume"
                )
            ),
        ]
    else:
        blocks.append(note_block("Gray-matter structure was not integrated in this run."))
    add(0, blocks)

    # 2 neurotransmitters
    blocks = [
        image_block(
            neurotransmitter_figure(u, c, end, split), "dopamine and glutamate trajectories"
        ),
        description_block(
            "Top: dopamine (striatal D2/D3 availability, tonic NAc dopamine, "
            "anhedonia, daily peak dopamine surge); bottom: glutamate (GLT-1 and xCT "
            "in the NAc core, cue-evoked glutamate spill-over, cue-induced craving, "
            f"which incubates over early abstinence). {band_txt} "
            + literature.caption(
                figure_literature(users, [v for v, _ in NEURO_PANELS], end),
                cite,
                "these dopamine and glutamate measures",
            )
        ),
    ]
    inc = _incubation_text(rec, end)
    if inc:
        blocks.append(paragraph_block(inc))
    blocks += literature_blocks(calibration, ("dopamine", "glutamate"), cite)
    add(1, blocks)

    # 3 signalling pathway
    link = (
        (
            f'<a href="{pathway_anchor}">mu-opioid receptor signalling under acute and '
            "chronic heroin exposure</a>"
        )
        if pathway_anchor
        else ("mu-opioid receptor signalling under acute and chronic heroin exposure")
    )
    add(
        2,
        [
            {
                "kind": "html",
                "text": (
                    "The receptor-to-cAMP pathway (Gi/o inhibition of adenylyl "
                    "cyclase, its superactivation with chronic exposure, and the cAMP "
                    "overshoot of withdrawal) is drawn, beside the simulated cAMP, in the "
                    f"section {link}; it is not repeated here. Its daily read-outs (mean "
                    "and peak MOR activation, withdrawal) are the drivers of every brain "
                    "scale in this part of the report."
                ),
            }
        ],
    )

    # 4 inflammation
    blocks = [
        image_block(inflammation_figure(u, c, end, split), "neuroinflammation"),
        description_block(
            "Microglia/astrocyte activation and pro-inflammatory cytokines (fold of "
            f"naive), and the negative affect and stress-system recruitment they feed. {band_txt} "
            + literature.caption(
                figure_literature(users, [v for v, _ in INFLAMMATION_PANELS], end),
                cite,
                "these inflammation and affect measures",
            )
        ),
    ]
    blocks += literature_blocks(calibration, ("inflammation",), cite)
    add(3, blocks)

    # 5 cognition and neurology
    add(
        4,
        _cognition_blocks(
            u,
            c,
            split,
            calibration,
            params,
            cite,
            end,
            last,
            _comparison_text(c),
            eff_txt,
            band_txt,
        ),
    )

    # 6 recovery
    blocks = []
    curves = (
        recovery_curves(rec.data, None if c is None else c.data, end)
        if end is not None and end < last
        else {}
    )
    if curves:
        blocks += [
            paragraph_block(
                f"Recovery is read from the {rec.label}"
                + (
                    " (lapses included): people who relapsed or kept using are not recovering."
                    if later is not None
                    else "."
                )
            ),
            image_block(recovery_figure(curves), "recovery with abstinence"),
            description_block(
                f"Fraction of the end-of-use deficit remaining ({rec.label}: mean minus "
                "controls' mean, over the same difference at the end of use) against "
                "days since stopping; 0 = back to control level, dotted line = half. "
                "Gray matter per region, FA per tract, D2/D3 availability, GLT-1, "
                "cognitive composite and domains."
            ),
            table_block(
                (
                    "measure",
                    "days to half recovery",
                    "remaining at 30 d",
                    "remaining at 90 d",
                    "remaining at 1 year",
                    "remaining at the last day",
                ),
                recovery_table(curves),
            ),
        ]
    else:
        blocks.append(
            note_block(
                "No abstinence after use was recorded in this run, so there is no recovery to show."
            )
        )
    add(5, blocks)
    return sections


def _incubation_text(users: Arm, end: float | None) -> str:
    var = "glutamate_craving"
    ds = users.data
    if end is None or var not in ds:
        return ""
    x = series(ds, var)
    i0 = time_index(ds, end)
    if i0 >= x.shape[1] - 1:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(x, axis=0)
    after = med[i0:]
    if not np.isfinite(med[i0]) or not np.isfinite(after).any():
        return ""
    k = int(np.nanargmax(after))
    t = time_days(ds) - time_days(ds)[i0]
    text = f"Median cue-induced craving of the {users.label} is {med[i0]:.2f} at the end of use"
    if k > 0:
        text += (
            f"; after stopping it peaks at {after[k]:.2f} on day {t[i0 + k]:g} of "
            f"abstinence ({100 * (after[k] / med[i0] - 1) if med[i0] else np.nan:+.0f} %)"
        )
    else:
        text += " and does not rise after stopping"
    j = time_index(ds, time_days(ds)[i0] + 30.0)
    if t[j] >= 30.0:
        text += f"; at 30 days of abstinence it is {med[j]:.2f}"
    return text + "."


def _cognition_blocks(
    users: Arm,
    controls: Arm | None,
    arms: Sequence[Arm],
    calibration,
    params,
    cite,
    end,
    last,
    comp,
    eff_txt,
    band_txt,
) -> list[Block]:
    blocks: list[Block] = []
    ds, cds = users.data, None if controls is None else controls.data
    if COG in ds and end is not None:
        effects = {
            f"end of use ({_fmt_day(end)}), {users.label}": region_effects(
                ds, cds, COG, end, reference=0.0, sd_pop=1.0
            )
        }
        colors = [COLORS[0]]
        if last > end:
            for j, arm in enumerate(arms or (users,)):
                effects[f"last recorded day ({_fmt_day(last)}), {arm.label}"] = region_effects(
                    arm.data, cds, COG, last, reference=0.0, sd_pop=1.0
                )
                colors.append(ARM_COLORS[j % len(ARM_COLORS)] if arms else COLORS[1])
        blocks += [
            paragraph_block(comp),
            image_block(cognition_figure(effects, colors), "cognitive domains"),
            description_block(
                f"Bars: the model's Cohen's d per domain for each group and time point (legend, "
                f"with n). {eff_txt} Hatched boxes: the literature's range where it gives one; "
                "labels: the finding."
            ),
        ]
        end_eff = next(iter(effects.values()))
        ids = {str(r.get("id")): r for r in calibration if r.get("scale") == "cognition"}
        worst = min(end_eff, key=lambda k: end_eff[k].d)
        rows = []
        known = cognition_literature()
        for dom, es in end_eff.items():
            lit = known.get(dom)
            if lit is None:
                rows.append([dom.replace("_", " "), es.text_d(), "", "", ""])
                continue
            text, lo, hi, target = lit
            row = ids.get(target, {})
            src = ", ".join(str(row.get(k, "")).strip() for k in ("source", "ref") if row.get(k))
            ref = f"{row.get('source', target)} {cite(src, target) if src else ''}".strip()
            if lo is None:
                ok = "yes" if dom == worst else f"no (largest: {worst.replace('_', ' ')})"
            else:
                ok = "yes" if lo <= es.d <= hi else "no"
            rows.append([dom.replace("_", " "), es.text_d(), text, ref, ok])
        blocks.append(
            table_block(
                (
                    "domain",
                    f"model d at end of use (90 %), {users.label}",
                    "literature",
                    "reference",
                    "matches",
                ),
                rows,
            )
        )
    elif COG in ds:
        blocks.append(note_block("No use was recorded, so there is no end-of-use comparison."))
    else:
        blocks.append(note_block("Cognition was not integrated in this run."))
    blocks += literature_blocks(calibration, ("cognition",), cite)
    if FA in ds:
        blocks += [
            image_block(white_matter_figure(users, controls, end, arms), "white-matter FA"),
            description_block(
                f"Fractional anisotropy per tract (fraction of a matched control's). {band_txt} "
                + literature.caption(
                    figure_literature(ds, [FA], end), cite, "fractional anisotropy"
                )
            ),
        ]
        if end is not None:
            fa = region_effects(
                ds, cds, FA, end, reference=1.0, sd_pop=pop_sd(params, "wm_population_cv")
            )
            blocks.append(
                table_block(
                    (
                        "tract",
                        f"model Cohen's d at end of use (90 %), {users.label}",
                        "model % difference (90 %)",
                    ),
                    [[k, v.text_d(), v.text_pct()] for k, v in fa.items()],
                )
            )
    header, counts = injury_counts(users, controls, arms)
    if counts:
        blocks += [
            paragraph_block(
                "People with each neurological event at any time in the run, of everyone in "
                "each group (the dead included):"
            ),
            table_block(header, counts),
        ]
    blocks += literature_blocks(calibration, ("white_matter",), cite)
    return blocks
