"""CLI end to end on a tiny cohort (in process): vbm and roi reports, one-line user errors,
the scenario adapter (imaging day, arms, deaths), and the default cohort (slow)."""

import json
import sys

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from neuroadapt.imaging.synth import make_participants


def cli(monkeypatch, capsys, *args):
    """Run ``neuroadapt ARGS`` in this process; return (exit status, stdout, stderr)."""
    from neuroadapt.cli import main

    monkeypatch.setattr(sys, "argv", ["neuroadapt", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    p = make_participants(6, 6, seed=1)
    p.to_csv(d / "participants.tsv", sep="\t", index=False)
    aff = np.diag([6.0, 6.0, 6.0, 1.0])
    aff[:3, 3] = [-90, -126, -72]
    rng = np.random.default_rng(1)
    for _i, row in p.iterrows():
        data = 0.5 + 0.05 * rng.standard_normal((31, 37, 31))
        if row["group"] == "user":
            data[18:22, 26:30, 10:14] -= 0.1
        nib.save(
            nib.Nifti1Image(data.astype(np.float32), aff), d / f"{row['participant_id']}_gm.nii.gz"
        )
    return d


def test_vbm_and_roi_write_reports(cohort, tmp_path, monkeypatch, capsys):
    pt = cohort / "participants.tsv"
    code, _, err = cli(monkeypatch, capsys, "imaging", "vbm", "--maps", cohort, "--participants",
                       pt, "--permutations", 20, "--out", tmp_path / "vbm")  # fmt: skip
    assert code == 0, err
    assert "permutations: 20/20" in err  # plain progress lines off a terminal
    html = (tmp_path / "vbm" / "report.html").read_text(encoding="utf-8")
    assert "Freedman" in html and "TFCE" in html and "data:image/png" in html
    assert "null cohorts" in html  # the measured error rate is stated
    assert (tmp_path / "vbm" / "contrast-usersLtControls_stat-tfce_statmap.nii.gz").exists()
    assert not (tmp_path / "vbm" / "truth_comparison.tsv").exists()  # real data: no truth
    # one-sided map, one-sided colours: no blue in the glass brain of positive t
    glass = _images(html)[0]
    bluish = (glass[..., 2] > 0.5) & (glass[..., 2] > glass[..., 0] + 0.25)
    assert bluish.sum() < 20, int(bluish.sum())
    out = tmp_path / "[b]roi[/b]"  # a path that rich would read as markup
    code, _, err = cli(monkeypatch, capsys, "imaging", "roi", "--maps", cohort,
                       "--participants", pt, "--out", out)  # fmt: skip
    assert code == 0, err
    assert "[b]roi[/b]" in err.replace("\n", "")  # printed as given, not as markup
    table = pd.read_csv(out / "roi_comparison.tsv", sep="\t")
    assert {"cohens_d", "p_holm", "adjusted_diff_ci95_low"} <= set(table.columns)
    assert (
        len(_images((out / "report.html").read_text(encoding="utf-8"))) == 1
    )  # the ROI effect sizes


def _images(html):
    """The PNG figures embedded in a report, as RGB(A) arrays."""
    import base64
    import io
    import re

    import matplotlib.image as mpimg

    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return [mpimg.imread(io.BytesIO(base64.b64decode(u)), format="png") for u in uris]


def test_maps_outside_gm_range_are_refused(cohort, tmp_path, monkeypatch, capsys):
    import shutil

    for name, scale, shift in (("percent", 100.0, 0.0), ("signed", 1.0, -0.5)):
        d = tmp_path / name
        shutil.copytree(cohort, d)
        f = next(d.glob("sub-*_gm.nii.gz"))
        img = nib.load(f)
        data = np.asarray(img.dataobj) * scale + shift
        nib.save(nib.Nifti1Image(data.astype(np.float32), img.affine), f)
        pt = d / "participants.tsv"
        code, _, err = cli(monkeypatch, capsys, "imaging", "roi", "--maps", d,
                           "--participants", pt, "--out", tmp_path / "o")  # fmt: skip
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert f.name in err and f"values from {data.min():.4g} to {data.max():.4g}" in err
        assert "allowed: gray-matter probability or density maps, values in [0, 1]" in err


def test_bad_input_is_one_line_exit_2(cohort, tmp_path, monkeypatch, capsys):
    p = pd.read_csv(cohort / "participants.tsv", sep="\t").drop(columns="group")
    p.to_csv(tmp_path / "bad.tsv", sep="\t", index=False)
    code, _, err = cli(monkeypatch, capsys, "imaging", "vbm", "--maps", cohort,
                       "--participants", tmp_path / "bad.tsv")  # fmt: skip
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "bad.tsv: no 'group' column" in err
    code, _, err = cli(monkeypatch, capsys, "imaging", "vbm", "--maps", cohort, "--participants",
                       cohort / "participants.tsv", "--contrast", "users=controls")  # fmt: skip
    assert code == 2 and "contrast 'users=controls'" in err
    code, _, err = cli(monkeypatch, capsys, "imaging", "validate", "--cohorts", 1,
                       "--null-cohorts", 0, "--effect", "cerebellum=-0.1")  # fmt: skip
    assert code == 2 and "REGION=CHANGE" in err


def test_validate_scenario_errors_are_one_line(tmp_path, monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "imaging", "validate", "--cohorts", 1,
                       "--null-cohorts", 0, "--scenario", "rat-iv-heroin", "--pool", 4,
                       "--out", tmp_path)  # fmt: skip
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "imaging needs a human cohort" in err
    code, _, err = cli(monkeypatch, capsys, "imaging", "validate", "--cohorts", 1,
                       "--null-cohorts", 0, "--scenario", "default", "--pool", 0,
                       "--out", tmp_path)  # fmt: skip
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def lifecourse():
    """A short life course: 6 users (400 days of use, 30 of follow-up) and 6 controls."""
    from neuroadapt.experiments.run import resolve, run_scenario
    from neuroadapt.scenarios import load_scenario

    sc = resolve(load_scenario("default"), subjects=6, seed=2)
    behaviour = sc.behaviour.model_copy(update={"use": "400d", "detox": "7d", "follow_up": "30d"})
    outputs = sc.model_copy(
        update={
            "behaviour": behaviour,
            "cohort": sc.cohort.model_copy(update={"controls": 6}),
            "outputs": sc.outputs.model_copy(update={"record_every": "10d"}),
        }
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return run_scenario(outputs, tmp)


def test_cohort_tables_images_each_user_at_own_years_of_use(lifecourse):
    from neuroadapt.imaging.synth import years_of_use_at_scan

    users = lifecourse.result.dataset
    times = users["time"].values
    t = cohort_tables_of(lifecourse)
    part = t["participants"].set_index("participant_id")
    assert t["day"] is None and "own years of use" in t["when"]
    drawn = years_of_use_at_scan(6, lifecourse.scenario.seed, 400 / 365.25)
    assert drawn.min() >= 1.0 and np.ptp(drawn) > 0
    used = part.loc[part["group"] == "user", "years_of_use"]
    assert used.nunique() > 1  # a contrast on years of use is no longer the group contrast
    gm = users["structure_gm_volume"].transpose("subject", "time", ...).values
    age0 = part.loc["sub-C0001", "age"]
    for pid, years in used.items():
        i = int(pid[5:]) - 1
        day = times[np.argmin(np.abs(times - 365.25 * drawn[i]))]
        assert years == pytest.approx(min(day, 400) / 365.25, abs=1e-3)
        assert np.allclose(t["change"].loc[pid].to_numpy(), gm[i, list(times).index(day)] - 1.0,
                           atol=1e-6)  # fmt: skip
        assert part.loc[pid, "age"] == pytest.approx(part.loc[f"sub-C{i + 1:04d}", "age"])
    assert age0 > 0


def cohort_tables_of(outputs, **kw):
    from neuroadapt.imaging.study import cohort_tables

    return cohort_tables(outputs, **kw)


def test_cohort_tables_images_the_stated_day_and_arm(lifecourse):
    from neuroadapt.imaging.study import ScanError

    users = lifecourse.result.dataset
    t = cohort_tables_of(lifecourse, own_years=False)
    assert t["day"] == 400.0 and t["years_of_use"][0] == pytest.approx(400 / 365.25, abs=1e-3)
    gm = users["structure_gm_volume"].sel(time=400.0).values
    part = t["participants"]
    first = part["participant_id"].iloc[0]
    i = int(first[5:]) - 1
    assert np.allclose(t["change"].loc[first].to_numpy(), gm[i] - 1.0, atol=1e-6)
    assert (t["change"][part["group"].to_numpy() == "control"].abs().to_numpy() < 1e-6).all()
    assert t["change"][part["group"].to_numpy() == "user"].to_numpy().mean() < 0
    assert cohort_tables_of(lifecourse, day=33)["day"] == 30.0  # nearest record
    end = users["time"].values[-1]
    for arm in ("continued use", "abstinence"):
        a = cohort_tables_of(lifecourse, arm=arm)
        ids = a["participants"].query("group == 'user'")["participant_id"]
        want = {f"sub-U{i + 1:04d}" for i in np.flatnonzero(users["arm"].values == arm)}
        alive = users["alive"].sel(time=end).values > 0.5
        want &= {f"sub-U{i + 1:04d}" for i in np.flatnonzero(alive)}
        assert a["day"] == end and set(ids) == want
    user_years = cohort_tables_of(lifecourse, arm="abstinence")["years_of_use"][0]
    assert user_years == pytest.approx(400 / 365.25, abs=1e-3)
    user_years = cohort_tables_of(lifecourse, arm="continued use")["years_of_use"][0]
    assert user_years == pytest.approx(end / 365.25, abs=1e-3)
    with pytest.raises(ScanError, match="allowed"):
        cohort_tables_of(lifecourse, arm="sometimes")
    with pytest.raises(ScanError, match="records days"):
        cohort_tables_of(lifecourse, day=5000)


def test_simulate_checks_every_option_before_simulating(monkeypatch, capsys, tmp_path):
    import neuroadapt.experiments.run as run

    def no_run(*a, **k):
        raise AssertionError("simulated before the options were checked")

    monkeypatch.setattr(run, "run_scenario", no_run)
    base = ("imaging", "simulate", "default", "--subjects", 3, "--out", tmp_path / "x")
    for extra, message in (
        (("--day", 99999), "option '--day' = 99999: the run records days 0 to 4382"),
        (("--arm", "sometimes"), "option '--arm' = 'sometimes': allowed"),
        (("--atlas", "nope"), "option '--atlas' = 'nope'"),
    ):
        code, _, err = cli(monkeypatch, capsys, *base, *extra)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    (tmp_path / "file").write_text("")
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "default", "--out",
                       tmp_path / "file")  # fmt: skip
    assert code == 2 and "exists and is not a folder" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "default", "--out",
                       tmp_path / "file" / "under")  # fmt: skip
    assert code == 2 and "cannot be created or written" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = cli(monkeypatch, capsys, "imaging", "validate", "--day", 3)
    assert code == 2 and "option '--day' = 3: acts only with '--scenario'" in err


def test_simulate_help_shows_its_text(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "imaging", "simulate", "--help")
    text = " ".join(out.replace("│", " ").split())
    assert code == 0 and "(one with a behaviour table)" in text and "(````)" not in text


def test_cohort_tables_leaves_out_the_dead(lifecourse, monkeypatch):
    from neuroadapt.imaging.study import cohort_tables

    ds = lifecourse.result.dataset.copy()
    alive = ds["alive"].values.copy()
    alive[0, :] = 0.0  # subject 0 dead from the start; its GM values stay finite
    ds["alive"] = (ds["alive"].dims, alive)
    monkeypatch.setattr(lifecourse.result, "dataset", ds)
    ids = set(cohort_tables(lifecourse)["participants"]["participant_id"])
    assert "sub-U0001" not in ids and "sub-U0002" in ids


@pytest.mark.slow
def test_simulate_default_then_vbm_finds_the_model_loss(tmp_path, monkeypatch, capsys):
    """The issue's 'Done when': loss regions found, nothing far from them."""
    out = tmp_path / "sim"
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "default", "--subjects", 20,
                       "--day", 3652, "--out", out)  # fmt: skip
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "imaging", "vbm", "--maps", out, "--participants",
                       out / "participants.tsv", "--permutations", 200,
                       "--out", out / "vbm")  # fmt: skip
    assert code == 0, err
    truth = pd.read_csv(out / "vbm" / "truth_comparison.tsv", sep="\t")
    loss = truth[truth["model_loss"]]
    assert len(loss) > 0 and loss["detected_TFCE"].all()
    # max-T controls the FWE in the strong sense: nothing where the model put no loss
    summary = json.loads((out / "vbm" / "truth_summary.json").read_text(encoding="utf-8"))
    assert summary["by_inference"]["max-T"]["far"] == 0
    assert truth.loc[~truth["model_loss"], "significant_voxels_max-T"].sum() == 0
    assert "Ground truth against findings" in (out / "vbm" / "report.html").read_text(
        encoding="utf-8"
    )
    desc = json.loads((out / "dataset_description.json").read_text(encoding="utf-8"))
    assert desc["Atlas"] == "harvard_oxford"


def test_simulate_from_a_saved_run_writes_the_same_study(tmp_path, monkeypatch, capsys):
    """``--from``: the saved simulation gives the files simulating again gives."""
    first, second = tmp_path / "first", tmp_path / "second"
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "default", "--subjects", 5,
                       "--seed", 3, "--out", first)  # fmt: skip
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "--from", first / "simulation",
                       "--out", second)  # fmt: skip
    assert code == 0, err
    assert "simulating" not in err
    for name in ("participants.tsv", "ground_truth.tsv", "phenotype/pet_bpnd.tsv"):
        assert (first / name).read_text() == (second / name).read_text(), name
    maps = sorted(first.glob("sub-*/anat/*.nii.gz"))
    assert maps and all(
        np.array_equal(nib.load(m).get_fdata(), nib.load(second / m.relative_to(first)).get_fdata())
        for m in maps
    )


@pytest.mark.parametrize(
    ("before", "after", "needle"),
    [
        ((), ("--seed", 4), "option '--seed' cannot act with '--from'"),
        ((), ("--subjects", 4), "option '--subjects' cannot act with '--from'"),
        (("escalation-and-relapse",), (), "option 'SCENARIO' cannot act with '--from'"),
    ],
)
def test_simulate_from_refuses_what_cannot_act(
    tmp_path, monkeypatch, capsys, before, after, needle
):
    (tmp_path / "run").mkdir()
    where = ("--from", tmp_path / "run", "--out", tmp_path / "o")
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", *before, *where, *after)
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err


def test_simulate_from_a_folder_without_a_run_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "--from", tmp_path / "empty",
                       "--out", tmp_path / "o")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "holds no results.nc: not a folder written by 'neuroadapt run'" in err


def test_too_few_participants_to_compare_is_one_line(monkeypatch, capsys, tmp_path):
    code, _, err = cli(monkeypatch, capsys, "imaging", "simulate", "default", "--subjects", 2,
                       "--out", tmp_path / "x")  # fmt: skip
    assert code == 2 and "'--subjects' = 2: must be an integer >= 3" in err


def test_a_study_with_too_few_living_users_is_refused():
    import pandas as pd

    from neuroadapt.imaging.study import ScanError, check_comparable

    table = pd.DataFrame({"group": ["user", "user", "control", "control", "control"]})
    with pytest.raises(ScanError, match="2 living users and 3 controls"):
        check_comparable(table)
