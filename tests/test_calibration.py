"""The calibration table: every covered target evaluated, no unexplained miss, fits reproducible."""

import csv
import math
import unicodedata
from pathlib import Path

import pytest

from neuroadapt.evidence import calibration
from neuroadapt.evidence.calibration import CHECKS, COVERED_SCALES, evaluate, unexplained_misses
from neuroadapt.evidence.fit import refit
from neuroadapt.evidence.targets import load_targets
from neuroadapt.parameters import load_parameters


@pytest.fixture(scope="module")
def results():
    # in this process, so that later tests reuse the probes cached here
    return evaluate(workers=1)


def test_worker_processes_give_the_same_table():
    """Groups of checks evaluated in two worker processes give the in-process table."""
    scales = ("pk", "dopamine", "glutamate")
    here = evaluate(scales, workers=1)
    there = evaluate(scales, workers=2)
    assert len({r.id.split("_")[0] for r in here}) >= 2  # two groups at least
    assert [r.as_dict() for r in here] == [r.as_dict() for r in there]


def test_calibration_imports_its_check_modules_statically():
    """No lazy loading: an import error of a check module fails the import of calibration."""
    source = Path(calibration.__file__).read_text(encoding="utf-8")
    assert "importlib" not in source and "import_module" not in source
    assert "ModuleNotFoundError" not in source and "ImportError" not in source


def test_every_check_module_is_in_the_registry():
    """Every ``checks_*.py`` of the evidence package is a module of one calibration group."""
    registered = [m for mods in calibration.CHECK_GROUPS.values() for m in mods]
    assert len(registered) == len(set(registered))
    names = {m.__name__.rsplit(".", 1)[1] for m in registered}
    on_disk = {f.stem for f in Path(calibration.__file__).parent.glob("checks_*.py")}
    assert names == on_disk
    for m in registered:
        assert m.__doc__ and m.CHECKS, m.__name__


def test_every_group_goes_to_a_worker():
    assert sorted(calibration._LONGEST_FIRST) == sorted(calibration.CHECK_GROUPS)


def test_the_table_starts_with_the_pharmacology_checks():
    ids = [c.target_id for c in calibration.all_checks()]
    assert len(ids) == len(set(ids))
    assert ids[: len(CHECKS)] == [c.target_id for c in CHECKS]


def test_every_covered_target_is_evaluated(results):
    covered = {t.id for t in load_targets().values() if t.scale in COVERED_SCALES}
    assert {r.id for r in results} == covered
    assert len({c.target_id for c in CHECKS}) == len(CHECKS)


def test_no_unexplained_miss(results):
    missed = unexplained_misses(results)
    assert not missed, [(r.id, r.model, r.literature) for r in missed]


def test_misses_and_conflicts_carry_a_reason(results):
    for r in results:
        if r.verdict != "pass":
            assert len(r.note) > 40, r.id


@pytest.mark.parametrize(
    "tid",
    [
        "pk_heroin_thalf_iv_inturrisi",
        "rec_morphine_c50_dahan",
        "resp_baseline_pao2_mann",
        "pk_6mam_tmax_ecf_gottas",
    ],
)
def test_key_targets_pass(results, tid):
    assert {r.id: r for r in results}[tid].verdict == "pass"


def test_statuses_match_the_parameter_table(results):
    """A target reported as 'calibrated' must have a fitted parameter whose source names it."""
    fitted_sources = " ".join(
        p.source for s in ("human", "rat") for p in load_parameters(s).params.values() if p.fitted
    ) + " ".join(p.source for p in load_parameters("human").params.values())
    fitted_sources = unicodedata.normalize("NFKD", fitted_sources)
    fitted_sources = "".join(c for c in fitted_sources if not unicodedata.combining(c))
    for r in results:
        if r.status == "calibrated":
            first_author = unicodedata.normalize("NFKD", r.source.split()[0])
            first_author = "".join(c for c in first_author if not unicodedata.combining(c))
            assert first_author in fitted_sources, r.id


def test_a_miss_is_reported_not_dropped(monkeypatch):
    """Breaking a parameter turns its target into a miss (the checks can fail)."""
    from neuroadapt.evidence import probes

    real = probes.params

    def broken(species="human", **over):
        p = real(species, **over)
        return p.with_values(t_half_morphine=3.9)

    monkeypatch.setattr(probes, "params", broken)
    res = {r.id: r for r in evaluate(("pk",))}
    assert res["pk_morphine_thalf_iv_stuart"].verdict == "miss"


def test_refit_reproduces_the_fitted_parameters():
    for row in refit():
        assert math.isfinite(row["fitted"]), row
        assert row["fitted"] == pytest.approx(row["table"], rel=0.03), row


def _shared_rows(shared_dir):
    with open(shared_dir / "literature" / "targets.csv", newline="", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def test_shipped_targets_are_rows_of_the_shared_table(shared_dir):
    """Every target the package ships is a row of the shared table, with the same source."""
    rows = _shared_rows(shared_dir)
    ours = load_targets(("targets.csv",))
    for tid, t in ours.items():
        assert tid in rows, tid
        assert rows[tid]["source"] == t.source, tid
        assert rows[tid]["scale"] == t.scale, tid


def test_every_shared_target_is_shipped(shared_dir):
    assert set(_shared_rows(shared_dir)) == set(load_targets(("targets.csv",)))


def test_markdown_table_replaces_only_the_table_section(tmp_path):
    from neuroadapt.evidence.calibration import CalibrationResult
    from neuroadapt.evidence.markdown import update_calibration_doc

    doc = tmp_path / "c.md"
    doc.write_text("# Calibration\n\nPolicy text.\n\n## Current table\n\nold | stuff\n")
    rows = [
        CalibrationResult(
            id="x_target",
            scale="pk",
            species="human",
            quantity="q",
            literature="1 h",
            model="2",
            unit="h",
            tolerance="",
            status="validation",
            verdict="explained miss",
            note="why | it misses",
            source="Someone 2020",
            ref="",
        )
    ]
    text = update_calibration_doc(doc, rows)
    assert text.startswith("# Calibration\n\nPolicy text.\n\n## Current table")
    assert "old | stuff" not in text
    assert "| x_target | human | 1 h | 2 h | validation | explained miss | Someone 2020 |" in text
    assert "- **x_target** (explained miss): why \\| it misses" in text


def test_calibration_cache_reuses_results_for_the_same_code(tmp_path, monkeypatch):
    import neuroadapt.evidence.cache as cache
    from neuroadapt.evidence.calibration import CalibrationResult

    calls = []
    row = CalibrationResult(
        id="t",
        scale="pk",
        species="human",
        quantity="q",
        literature="1",
        model="nan",
        unit="",
        tolerance="",
        status="validation",
        verdict="explained miss",
        note="",
        source="S",
        ref="",
    )
    monkeypatch.setattr(cache, "evaluate", lambda progress=None: calls.append(1) or [row])
    first = cache.evaluate_cached(tmp_path)
    second = cache.evaluate_cached(tmp_path)
    assert len(calls) == 1 and first[0].id == second[0].id == "t"
    assert math.isnan(second[0].value)
    monkeypatch.setattr(cache, "code_key", lambda: "another-version")
    cache.evaluate_cached(tmp_path)
    assert len(calls) == 2
