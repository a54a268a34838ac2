"""HTML report: self-contained, complete, atomic; figure and diagram smoke tests."""

from __future__ import annotations

import base64
import os
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from neuroadapt.engine.simulate import RescueRule, simulate
from neuroadapt.experiments.panels import compute_panels
from neuroadapt.model.dose import Dose
from neuroadapt.model.system import SIGNALLING_PATHWAY
from neuroadapt.parameters import load_parameters
from neuroadapt.report import SECTION_HEADINGS, build_report, pathway_figure, structure_figure
from neuroadapt.report import html as report_html
from neuroadapt.report.cohort import cohort_figure, cohort_summary
from neuroadapt.report.diagram import draw_pathway, layered_layout
from neuroadapt.report.figures import FIGURES
from neuroadapt.report.methods import methods_paragraph
from neuroadapt.report.plotting import to_data_uri
from neuroadapt.report.references import References
from neuroadapt.scenarios import load_scenario
from report_walk import OWN_CONTENT, check_report, walk

CALIBRATION = [
    {
        "id": "pk_6mam_thalf_rook",
        "scale": "pk",
        "species": "human",
        "quantity": "terminal half-life of 6-MAM",
        "literature": "21.8 min",
        "model": "21.8",
        "unit": "min",
        "status": "input",
        "verdict": "pass",
        "note": "",
        "source": "Rook 2006 Clin Pharmacokinet",
        "ref": "doi:10.2165/00003088-200645040-00005",
    },
    {
        "id": "x_miss",
        "scale": "signalling",
        "species": "rat",
        "quantity": "something",
        "literature": "4 fold",
        "model": "2",
        "unit": "fold",
        "status": "validation",
        "verdict": "explained miss",
        "note": "one mechanism only",
        "source": "Yu 1988 JPET",
        "ref": "",
    },
    {
        "id": "x_conflict",
        "scale": "pk",
        "species": "human",
        "quantity": "heroin half-life",
        "literature": "7.6 min",
        "model": "3",
        "unit": "min",
        "status": "conflict",
        "verdict": "conflict",
        "note": "two sources disagree",
        "source": "Rook 2006",
        "ref": "",
    },
]


@pytest.fixture(scope="module")
def params():
    return load_parameters("human")


@pytest.fixture(scope="module")
def cohort(params):
    doses = [Dose(8.0 * i, "heroin", "iv", 20.0) for i in range(27)] + [
        Dose(9 * 24.0 + 6.0, "heroin", "iv", 80.0)
    ]
    return simulate(
        params,
        doses,
        10 * 24.0,
        5,
        seed=3,
        variability=1.0,
        rescue=RescueRule(0.4, "im", 5.0, 40.0, 0.5),
    )


@pytest.fixture(scope="module")
def panels(params):
    return compute_panels(params, seed=0, overdose_subjects=10)


@pytest.fixture(scope="module")
def report(tmp_path_factory, params, cohort, panels):
    folder = tmp_path_factory.mktemp("report")
    path = build_report(
        folder / "report.html",
        scenario=load_scenario("default"),
        cohort=cohort.dataset,
        episodes=cohort.episodes,
        panels=panels,
        calibration=CALIBRATION,
        params=params,
        provenance={"command": "pytest"},
    )
    return path


def _outside_references(html: str) -> str:
    start = html.index(">References</h2>")
    end = html.index("</ol>", start)
    return html[:start] + html[end:]


def test_report_is_written_atomically(report):
    assert report.is_file() and report.name == "report.html"
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html"]


def test_report_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    outside = _outside_references(html)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", outside, re.I)
    assert "<link" not in html and "<script" not in html
    assert re.search(r'href="https://doi.org/10\.2165/', html)  # links only in the references


def test_every_section_heading(report):
    html = report.read_text(encoding="utf-8")
    for heading in SECTION_HEADINGS:
        assert f"<h2>{heading}</h2>" in html, heading
    assert "Not computed" not in html


def test_every_figure_is_an_embedded_png(report):
    html = report.read_text(encoding="utf-8")
    srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", html)
    assert len(srcs) == len(FIGURES) + 2  # panels, cohort, model structure
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_content(report, params, cohort):
    html = report.read_text(encoding="utf-8")
    assert params.hash() in html
    assert "default" in html and "Assumptions" in html
    assert 'class="v-explained-miss"' in html and "explained miss: 1" in html
    assert "conflict: 1" in html and "pass: 1" in html
    deaths = int(np.isfinite(cohort.dataset["death_time"].values).sum())
    assert f"{deaths} of 5" in html
    assert "warning" not in re.sub(r"\.warning \{[^}]*\}", "", html)
    # a scheduled regimen: its own limitations, not a life course's
    from markupsafe import escape

    from neuroadapt.report.html import LIFECOURSE_LIMITATIONS, SCHEDULED_LIMITATIONS

    assert all(escape(text) in html for text in SCHEDULED_LIMITATIONS)
    assert not any(escape(text) in html for text in LIFECOURSE_LIMITATIONS)


def test_failed_write_leaves_no_temp_file(tmp_path, params, cohort, monkeypatch):
    target = tmp_path / "out.html"
    target.write_text("old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "replace", boom)
    with pytest.raises(OSError):
        build_report(
            target,
            scenario=load_scenario("default"),
            cohort=cohort.dataset,
            episodes=cohort.episodes,
            panels={},
            calibration=[],
            params=params,
            provenance={},
        )
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["out.html"]


def test_missing_panels_and_foreign_parameters_are_flagged(tmp_path, params, cohort):
    other = params.with_values(ac_imax=params["ac_imax"] * 0.99)
    path = build_report(
        tmp_path / "r.html",
        scenario=load_scenario("default"),
        cohort=cohort.dataset,
        episodes=pd.DataFrame(),
        panels={},
        calibration=[],
        params=other,
        provenance={"version": "x.y"},
        limitations=["cannot fly"],
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("Not computed") == len(FIGURES)
    assert "was simulated with parameter set" in html
    assert "<li>cannot fly</li>" in html and "No overdose episodes" in html


def test_references_deduplicate_and_separate_assumptions():
    refs = References()
    a = refs.cite("Rook EJ et al. 2006 Clin Pharmacokinet 45:401-417, doi:10.2165/x")
    b = refs.cite("Rook 2006 Clin Pharmacokinet", "target")
    c = refs.cite("assumption: as in rats (Gottas A et al. 2013 Br J Pharmacol 170:546)", "p1")
    d = refs.cite("fitted to X (Gottås 2013)")
    assert a == b == ["1"]
    assert c == ["A1", "2"] and d == ["2"]
    assert len(refs.entries()) == 2
    assert "Rook EJ et al." in str(refs.entries()[0][1])
    assert refs.assumptions() == [
        ("A1", "as in rats (Gottas A et al. 2013 Br J Pharmacol 170:546)", "p1")
    ]


def test_methods_paragraph_uses_the_parameters(params):
    refs = References()
    text = " ".join(methods_paragraph(params, refs, variability=1.0))
    t_half = params.params["t_half_heroin"]
    assert f"half-life of {t_half.table_value:.3g} {t_half.unit} [" in text
    assert "Inturrisi" in " ".join(str(e) for _, e in refs.entries())


def test_cohort_summary_arithmetic(cohort):
    rows = dict(cohort_summary(cohort.dataset, cohort.episodes))
    assert rows["subjects"] == "5"
    assert rows["overdose episodes"].startswith(f"{len(cohort.episodes)} in")


@pytest.mark.parametrize("name", list(FIGURES))
def test_panel_figure_smoke(panels, name):
    fig = FIGURES[name][1](panels[name])
    assert isinstance(fig, Figure) and fig.axes
    assert to_data_uri(fig, dpi=30).startswith("data:image/png;base64,")


def test_cohort_figure_smoke(cohort):
    for episodes in (cohort.episodes, None):
        fig = cohort_figure(cohort.dataset, episodes)
        assert len(fig.axes) == 6
        to_data_uri(fig, dpi=30)


def test_diagrams_smoke_and_chronic_only_edges():
    for fig in (pathway_figure(), structure_figure()):
        to_data_uri(fig, dpi=30)
    acute_ax, chronic_ax = Figure().subplots(1, 2)
    draw_pathway(acute_ax, False)
    draw_pathway(chronic_ax, True)
    arrows = [
        sum(isinstance(p, FancyArrowPatch) for p in ax.patches) for ax in (acute_ax, chronic_ax)
    ]
    assert arrows == [sum(not e.chronic_only for e in SIGNALLING_PATHWAY), len(SIGNALLING_PATHWAY)]


def test_layered_layout():
    pos = layered_layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    assert [pos[n][1] for n in "abc"] == [0, 1, 2]
    with pytest.raises(ValueError, match="cycle"):
        layered_layout(["a", "b"], [("a", "b"), ("b", "a")])


# ------------------------------------------------------------------ the report as a reader walks it
def _figure_titles() -> dict[str, str]:
    return {name: title for name, (title, _) in FIGURES.items()}


def test_scheduled_report_headings_tables_and_figures_match(report):
    from neuroadapt.report.brain import BRAIN_HEADINGS

    # this cohort has no brain variables: the brain sections hold one note each
    own = {h: m for h, m in OWN_CONTENT.items() if h not in BRAIN_HEADINGS and "Behaviour" not in h}
    sections = check_report(report.read_text(encoding="utf-8"), _figure_titles(), own)
    assert [s.heading for s in sections] == list(SECTION_HEADINGS)


@pytest.fixture(scope="module")
def life(params):
    from neuroadapt.engine.brain import available_brain_modules
    from neuroadapt.engine.lifecourse import LifePlan, simulate_lifecourse

    plan = LifePlan(use_days=120, detox_days=7, follow_up_days=60, abstinent_fraction=0.5)
    n = 16
    cov = {"age_years": np.full(2 * n, 30.0), "female": np.zeros(2 * n)}
    cov["smoked_fraction"] = np.zeros(2 * n)
    res = simulate_lifecourse(
        params,
        plan,
        2 * n,
        cov,
        available_brain_modules(),
        drug_free=np.r_[np.zeros(n, bool), np.ones(n, bool)],
        seed=5,
        rescue=RescueRule(probability=0.5),
        record_every_d=10,
    )
    return (
        plan,
        res,
        res.dataset.isel(subject=slice(0, n)),
        res.dataset.isel(subject=slice(n, None)),
    )


@pytest.fixture(scope="module")
def life_report(tmp_path_factory, params, panels, life):
    from neuroadapt.engine.outcomes import (
        clinical_outcomes,
        deaths_by_year,
        mortality_table,
        survival_table,
    )

    plan, res, users, controls = life
    users_rows = res.subjects[res.subjects["arm"] != "control"]
    path = build_report(
        tmp_path_factory.mktemp("life") / "report.html",
        scenario=load_scenario("default"),
        cohort=users,
        episodes=res.episodes,
        panels=panels,
        calibration=CALIBRATION,
        params=params,
        provenance={"command": "pytest"},
        controls=controls,
        lifecourse={
            "use_days": plan.use_days,
            "discharge_day": plan.use_days + plan.detox_days,
            "subjects": users_rows,
            "survival": survival_table(users_rows, plan),
            "clinical": clinical_outcomes(users_rows, plan, res.episodes),
            "mortality": mortality_table(res.subjects, plan),
            "deaths_by_year": deaths_by_year(res.subjects, plan),
        },
    )
    return path.read_text(encoding="utf-8"), users_rows


def test_life_course_report_headings_tables_and_figures_match(life_report):
    """Every link leads to a section headed by its title, over that section's own content.

    The behaviour section of a life course used to shift every later heading by one.
    """
    sections = check_report(life_report[0], _figure_titles())
    headings = [s.heading for s in sections]
    assert headings[-7:] == list(SECTION_HEADINGS[-7:])
    assert headings[-8].startswith("Behaviour")


def test_life_course_report_shows_mortality_by_group_and_deaths_by_cause(life_report):
    """Mortality per 1,000 person-years and SMR for each group with its n, and the deaths figure."""
    html, subjects = life_report
    sec = {s.id: s for s in walk(html).sections}["behaviour"]
    tables = [t for t in sec.tables if t.header and t.header[0] == "group"]
    assert len(tables) == 1
    header, rows = tables[0].header, tables[0].rows
    assert "all causes per 1,000 person-years" in header and "SMR (95 % CI)" in header
    groups = [r[0] for r in rows]
    assert groups[0] == f"users during use (n = {len(subjects)})"
    assert "controls during use (n = 16)" in groups
    for r in rows:  # deaths = overdose + other causes, as printed
        total, rest = r[2].split(" (", 1)
        od, other = (int(x.split()[0]) for x in rest.rstrip(")").split(", "))
        assert int(total) == od + other
    assert "deaths by cause and year; mortality by arm" in [alt for _, alt in sec.images]
    assert "death (any cause)" in sec.text


def test_life_course_brain_tables_name_each_arm_with_its_n(life_report):
    html, subjects = life_report
    sec = {s.id: s for s in walk(html).sections}
    events = [t for t in sec["cognition"].tables if t.header and t.header[0] == "event"]
    if events:  # neurological events happened: one column per group, each with its n
        header = events[0].header
        assert header[1] == f"users (n = {len(subjects)})"
        assert header[-1] == "controls (n = 16)"
        assert any(h.startswith("continued use (n = ") for h in header)
    # the end-of-use table reads everyone alive; recovery states its subset and its n
    assert any(
        h == f"model d at end of use (90 %), users (n = {len(subjects)})"
        for t in sec["cognition"].tables
        for h in t.header
    )
    assert re.search(r"Recovery is read from the detoxified[^(]*\(n = \d+\)", sec["recovery"].text)
    assert f"all users (n = {len(subjects)}) up to the end of use" in sec["brain-structure"].text


def test_trajectory_legends_carry_each_groups_n(life):
    from neuroadapt.analysis.brain import Arm
    from neuroadapt.experiments.lifecourse import study_arms
    from neuroadapt.report.brain_figures import gm_trajectory_figure

    plan, res, users, controls = life
    arms = [Arm(k, v) for k, v in study_arms(users, res.subjects, plan.use_days).items()]
    assert arms and sum(a.n for a in arms) <= users.sizes["subject"]
    fig = gm_trajectory_figure(users, controls, float(plan.use_days), arms)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels[0] == "users (n = 16)" and labels[-1] == "controls (n = 16)"
    assert labels[1:-1] == [a.label for a in arms]
    assert all(re.search(r"\(n = \d+\)$", lab) for lab in labels)


def test_cohort_figure_leaves_out_what_was_not_recorded(cohort):
    from neuroadapt.report.cohort import not_recorded

    ds = cohort.dataset.drop_vars("spo2_min")
    fig = cohort_figure(ds, cohort.episodes)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles[0] == "tolerance (1 + U)" and not any("SpO2" in t for t in titles)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "not recorded" not in texts
    rows = dict(cohort_summary(ds, cohort.episodes))
    assert "lowest SpO2 per subject" not in rows and "n/a" not in rows.values()
    assert "lowest SpO2" in not_recorded(ds)[0] and not_recorded(cohort.dataset) == []


def test_alive_axis_ends_at_100_percent(cohort):
    fig = cohort_figure(cohort.dataset, cohort.episodes)
    ax = next(a for a in fig.axes if a.get_title().startswith("subjects alive"))
    assert ax.get_ylim()[1] == 100.0
    lo, hi = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if lo - 1e-9 <= t <= hi + 1e-9]
    assert max(shown) == pytest.approx(100.0) and lo <= 90.0


def test_panel_figures_are_cached_under_their_code_and_data(tmp_path, panels):
    from neuroadapt.report.figcache import cached_png

    calls = []

    def draw(ds):
        calls.append(1)
        return FIGURES["tolerance"][1](ds)

    ds = panels["tolerance"]
    a = cached_png("tolerance", lambda: draw(ds), ds, directory=tmp_path)
    b = cached_png("tolerance", lambda: draw(ds), ds, directory=tmp_path)
    assert a == b and len(calls) == 1  # drawn once, then read back
    changed = ds.copy(deep=True)
    changed["tolerance_shift"][0] += 0.1
    cached_png("tolerance", lambda: draw(changed), changed, directory=tmp_path)
    assert len(calls) == 2  # other data, drawn again
    assert base64.b64decode(a.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_section_kind_the_template_cannot_draw_is_an_error():
    from neuroadapt.report.html import Section

    with pytest.raises(ValueError, match="kind 'chart'"):
        Section("x", "X", "chart", None)
    with pytest.raises(ValueError, match="empty title"):
        Section("x", " ", "figure", None)


@pytest.mark.slow
def test_default_report_headings_tables_and_figures_match(tmp_path):
    """``neuroadapt run`` on the default scenario (small cohort), walked as a reader walks it."""
    from typer.testing import CliRunner

    from neuroadapt.cli import app

    out = tmp_path / "default"
    res = CliRunner().invoke(app, ["run", "--subjects", "40", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    sections = {s.id: s for s in check_report(html, _figure_titles())}
    assert "lowest SpO2" in sections["summary"].text  # left out, and said why
    header = next(
        t.header for t in sections["cognition"].tables if t.header and t.header[0] == "event"
    )
    assert header[1] == "users (n = 40)" and header[-1] == "controls (n = 40)"


def test_life_course_report_shows_the_decade_beside_the_literature(life_report):
    """Dose, tolerance, overdoses per year, lapse and relapse, mortality beside the literature."""
    html, subjects = life_report
    sec = {s.id: s for s in walk(html).sections}["behaviour"]
    alts = [alt for _, alt in sec.images]
    assert "shorter than a year, so there are no overdoses per year" in sec.text  # 180 days
    for alt in (
        "daily dose and tolerance over the years",
        "time to lapse and relapse after detoxification; abstinence by month",
        "deaths by cause and year; mortality by arm",
    ):
        assert alt in alts
    lit = [t for t in sec.tables if t.header and t.header[0] == "deaths"]
    assert len(lit) == 1
    assert lit[0].header[1].startswith(f"model: users during use (n = {len(subjects)})")
    degenhardt = [r for r in lit[0].rows if r[4].startswith("Degenhardt 2011")]
    assert degenhardt and degenhardt[0][2].startswith("20.9 (")  # 2.09 per 100 PY, per 1,000
    assert "'first_lapse_d' and 'relapse_d'" in sec.text


def test_cohort_bands_are_of_the_living():
    """The dead carry neutral read-outs (tolerance 1, activation 0): bands must ignore them."""
    import xarray as xr

    from neuroadapt.report.cohort import cohort_figure

    n, t = 10, np.arange(20.0)
    tol = np.full((n, t.size), 3.0)
    alive = np.ones((n, t.size))
    tol[:6, 10:], alive[:6, 10:] = 1.0, 0.0  # most die on day 10
    ds = xr.Dataset(
        {
            "tolerance_shift": (("subject", "time"), tol, {"units": "1"}),
            "alive": (("subject", "time"), alive),
        },
        coords={"subject": np.arange(n), "time": t},
    )
    fig = cohort_figure(ds)
    ax = next(a for a in fig.axes if "tolerance" in a.get_title())
    median = ax.lines[0].get_ydata()
    assert np.allclose(median, 3.0)
