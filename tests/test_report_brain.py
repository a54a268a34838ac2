"""Brain sections of the report: effect sizes, tables and figure smoke tests on tiny data."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.analysis import brain as ab
from neuroadapt.analysis.effects import effect_size
from neuroadapt.parameters import load_parameters
from neuroadapt.report import SECTION_HEADINGS, build_report
from neuroadapt.report import brain_figures as bf
from neuroadapt.report import brain_tables as bt
from neuroadapt.report.brain import BRAIN_HEADINGS, brain_sections
from neuroadapt.report.plotting import to_data_uri
from neuroadapt.scenarios import load_scenario

REGIONS = ("insula", "nucleus accumbens", "precuneus")
TRACTS = ("frontal white matter", "corpus callosum")
DOMAINS = ("decision_making", "complex_psychomotor", "processing_speed")
N, DAYS, STOP = 6, 40, 20  # use on days 0-19


def _dataset(users: bool) -> xr.Dataset:
    t = np.arange(DAYS, dtype=float)
    on = (t < STOP).astype(float)
    # loss builds during use and halves every 5 days after it
    loss = np.where(t < STOP, t / STOP, 0.5 ** ((t - STOP + 1) / 5.0)) if users else 0 * t
    s = 1.0 + 0.1 * np.arange(N)[:, None]  # between-subject spread
    dose = (loss[None, :] * s) if users else np.zeros((N, DAYS))
    alive = np.ones((N, DAYS))
    if users:
        alive[-1, 30:] = 0.0  # one subject dies on day 30
    act = 0.5 * on[None, :] * np.ones((N, 1)) if users else np.zeros((N, DAYS))
    act = act + 1e-12  # float-precision residue after the last dose
    st = ("subject", "time")
    data = {
        "activation_mean": (st, act),
        "alive": (st, alive),
        "structure_gm_volume": (
            (*st, "structure_region"),
            1.0 - 0.1 * dose[..., None] * np.array([1.0, 0.8, 0.5]),
        ),
        "structure_gm_density": (
            (*st, "structure_region"),
            1.0 - 0.08 * dose[..., None] * np.ones(3),
        ),
        "white_matter_fa": (
            (*st, "white_matter_region"),
            1.0 - 0.05 * dose[..., None] * np.ones(2),
        ),
        "cognition_z": ((*st, "cognition_region"), -dose[..., None] * np.array([0.6, 1.0, 0.0])),
        "cognition_z_composite": (st, -0.5 * dose),
        "dopamine_d2_availability": (st, 1.0 - 0.1 * dose),
        "dopamine_da_tonic": (st, 1.0 - 0.3 * dose),
        "dopamine_anhedonia": (st, 0.4 * dose),
        "dopamine_da_phasic_peak": (st, 100.0 + 100.0 * act),
        "glutamate_glt1": (st, 1.0 - 0.4 * dose),
        "glutamate_craving": (st, 0.5 * dose),
        "inflammation_glial_activation": (st, 0.3 * dose),
        "inflammation_cytokines": (st, 1.0 + 0.3 * dose),
        "white_matter_hypoxic_injury": (st, np.zeros((N, DAYS))),
    }
    if users:
        data["white_matter_hypoxic_injury"][1][:2, 10:] = 1.0
    return xr.Dataset(
        data,
        coords={
            "subject": np.arange(N),
            "time": t,
            "structure_region": list(REGIONS),
            "white_matter_region": list(TRACTS),
            "cognition_region": list(DOMAINS),
        },
    )


@pytest.fixture(scope="module")
def users():
    return _dataset(True)


@pytest.fixture(scope="module")
def controls():
    return _dataset(False)


@pytest.fixture(scope="module")
def params():
    return load_parameters("human")


CAL = [
    {
        "id": "str_insula_postmortem_muller",
        "scale": "structure",
        "species": "human",
        "quantity": "post-mortem anterior insula relative volume",
        "literature": "-24 % difference",
        "model": "-22",
        "unit": "% difference",
        "tolerance": "",
        "status": "calibrated",
        "verdict": "pass",
        "note": "",
        "source": "Müller 2023 Eur Arch Psychiatry Clin Neurosci",
        "ref": "doi:10.1007/s00406-023-01553-6",
    },
    {
        "id": "glu_x",
        "scale": "glutamate",
        "species": "rat",
        "quantity": "GLT-1 down",
        "literature": "GLT-1 down",
        "model": "yes",
        "unit": "",
        "tolerance": "",
        "status": "input",
        "verdict": "pass",
        "note": "",
        "source": "Shen 2014 J Neurosci",
        "ref": "",
    },
]


def test_has_brain_and_end_of_use(users):
    assert ab.has_brain(users)
    assert not ab.has_brain(users[["activation_mean", "alive"]])
    assert not ab.has_brain(None)
    assert ab.end_of_use(users) == STOP - 1  # the float residue is not use
    assert ab.end_of_use(_dataset(False)) is None


def test_effect_size_arithmetic():
    u = np.array([0.8, 0.9, 1.0, np.nan])
    c = np.array([1.0, 1.0])
    es = effect_size(u, c, reference=1.0, sd_pop=0.1)
    assert es.d == pytest.approx((0.9 - 1.0) / np.sqrt(0.01 + np.var([0.8, 0.9, 1.0])))
    assert es.pct == pytest.approx(-10.0)
    assert es.d_lo <= es.d <= es.d_hi and es.pct_lo <= es.pct <= es.pct_hi
    assert (es.n_users, es.n_controls) == (3, 2)
    assert effect_size(u, c, reference=1.0, sd_pop=0.1) == es  # fixed seed
    alone = effect_size(u, None, reference=1.0, sd_pop=0.1)
    assert alone.d == pytest.approx(es.d) and alone.n_controls == 0
    assert np.isnan(effect_size(np.array([np.nan]), c, reference=1.0, sd_pop=0.1).d)


def test_region_effects_drop_the_dead(users, controls):
    eff = ab.region_effects(users, controls, ab.GM, 35.0, reference=1.0, sd_pop=0.05)
    assert list(eff) == list(REGIONS)
    assert eff["insula"].n_users == N - 1 and eff["insula"].d < 0
    assert eff["insula"].d < eff["precuneus"].d


def test_structure_table(users, controls, params):
    rows = bt.structure_table(users, controls, CAL, params, cite=lambda s, u: "[1]")
    assert rows and all(len(r) == 9 for r in rows)
    muller = [r for r in rows if "post-mortem" in r[2]]
    assert muller[0][0] == "insula" and "-24 % difference" in muller[0][1]
    assert "[1]" in muller[0][3] and muller[0][7] == "yes" and muller[0][8] == "pass"
    assert any("not in calibration" == r[8] for r in rows)  # fallback text for other findings
    alone = bt.structure_table(users, None, CAL, params)
    assert len(alone) == len(rows)


def test_recovery_curves_and_table(users, controls):
    curves = ab.recovery_curves(users, controls, ab.end_of_use(users))
    days, frac = curves["gray matter"]["insula"]
    assert days[0] == 0 and frac[0] == pytest.approx(1.0) and frac[-1] < 0.2
    assert "processing speed" not in curves["cognition"]  # no deficit, no curve
    rows = bt.recovery_table(curves)
    assert rows[0][0] == "gray matter: insula" and rows[0][4] == "n/a"  # no year recorded
    assert ab.recovery_curves(users, controls, float(DAYS - 1)) == {}


def test_injury_counts(users, controls):
    header, rows = bt.injury_counts(users, controls)
    assert header == ["event", "users (n = 6)", "controls (n = 6)"]
    assert rows == [["hypoxic-ischaemic brain lesion", "2 of 6 (33.3 %)", "0 of 6 (0.0 %)"]]
    assert bt.injury_counts(users)[0] == ["event", "users (n = 6)"]


def test_injury_counts_per_arm_count_everyone_in_each_group(users, controls):
    """Each column is one group, named with its n, and counts of that whole group."""
    arm = ab.Arm("detoxified, never relapsed", users.isel(subject=[2, 3, 4]))
    header, rows = bt.injury_counts(users, ab.Arm("controls", controls), [arm])
    assert header == [
        "event",
        "users (n = 6)",
        "detoxified, never relapsed (n = 3)",
        "controls (n = 6)",
    ]
    # subjects 0 and 1 had the lesion: 2 of all 6 users, none of the 3 in the arm
    assert rows == [
        ["hypoxic-ischaemic brain lesion", "2 of 6 (33.3 %)", "0 of 3 (0.0 %)", "0 of 6 (0.0 %)"]
    ]


@pytest.mark.parametrize(
    "func",
    [
        bf.gm_trajectory_figure,
        bf.neurotransmitter_figure,
        bf.inflammation_figure,
        bf.white_matter_figure,
    ],
)
@pytest.mark.parametrize("with_controls", [True, False])
def test_trajectory_figures_smoke(func, users, controls, with_controls):
    fig = func(users, controls if with_controls else None, ab.end_of_use(users))
    assert isinstance(fig, Figure) and fig.axes
    assert to_data_uri(fig, dpi=30).startswith("data:image/png;base64,")
    to_data_uri(func(users[["alive"]]), dpi=30)  # no brain variables: empty panels


def test_cognition_and_recovery_figures_smoke(users, controls):
    eff = {"end": ab.region_effects(users, controls, ab.COG, 19.0, reference=0.0, sd_pop=1.0)}
    to_data_uri(bf.cognition_figure(eff), dpi=30)
    to_data_uri(bf.cognition_figure({}), dpi=30)
    to_data_uri(bf.recovery_figure(ab.recovery_curves(users, controls, 19.0)), dpi=30)
    to_data_uri(bf.recovery_figure({}), dpi=30)


def test_sections_without_brain_variables(users):
    secs = brain_sections(users[["alive"]], None, CAL, None)
    assert [s["title"] for s in secs] == list(BRAIN_HEADINGS)
    assert all(b["kind"] == "note" for s in secs for b in s["blocks"])


@pytest.mark.parametrize("with_controls", [True, False])
def test_report_with_brain_sections(tmp_path, users, controls, params, with_controls):
    path = build_report(
        tmp_path / "r.html",
        scenario=load_scenario("escalation-and-relapse"),
        cohort=users,
        episodes=pd.DataFrame(),
        panels={},
        calibration=CAL,
        params=params,
        provenance={},
        controls=controls if with_controls else None,
    )
    html = path.read_text(encoding="utf-8")
    for heading in (*BRAIN_HEADINGS, *SECTION_HEADINGS):
        assert f"<h2>{heading}</h2>" in html, heading
    srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", html)
    assert len(srcs) == 2 + 6  # cohort, model structure; six brain figures
    for src in srcs:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Shen 2014 J Neurosci" in html and "post-mortem volumetry" in html
    assert ("matched drug-free controls" in html) == with_controls
    assert ("No matched controls were simulated" in html) != with_controls
