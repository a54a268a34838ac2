"""SBML export: it validates, it is built from the engine's sources, and libRoadRunner agrees.

Every simulation here opens the export with plain ``roadrunner.RoadRunner``: no helper of
ours is needed to run the file.
"""

from __future__ import annotations

import math

import libsbml
import numpy as np
import pytest

from neuroadapt.engine.sbml import (
    UNDERFLOW_FLOOR,
    habitual_doses,
    pk_id,
    to_l3_infix,
    to_sbml,
    write_sbml,
)
from neuroadapt.engine.simulate import EngineOptions, prepare, simulate, trajectory
from neuroadapt.model import receptor, respiration, signalling
from neuroadapt.model.dose import Dose
from neuroadapt.model.pk import build_pk
from neuroadapt.parameters import load_parameters

HUMAN = load_parameters("human")
EFFECT_SITES = ("heroin_brain", "6mam_brain", "morphine_brain", "m6g_brain")
#: Tight integrator settings for the reference runs.
RTOL, ATOL = 1e-10, 1e-12


def q8h(mg: float, days: float, start_h: float = 0.0) -> list[Dose]:
    return [Dose(start_h + 8.0 * k, "heroin", "iv", mg) for k in range(int(round(3 * days)))]


def errors(doc: libsbml.SBMLDocument) -> list[str]:
    doc.checkConsistency()
    return [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def _roadrunner():
    rr = pytest.importorskip(
        "roadrunner",
        reason="libRoadRunner is needed to simulate the SBML export (pip install -e '.[test]')",
    )
    rr.Logger.setLevel(rr.Logger.LOG_ERROR)
    return rr


def runner(sbml: str, rtol: float = RTOL, atol: float = ATOL):
    rr = _roadrunner().RoadRunner(sbml)
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 1_000_000
    return rr


def rr_simulate(sbml: str, times_h, names) -> dict[str, np.ndarray]:
    """Plain libRoadRunner run at tight tolerances, the selections at ``times_h``."""
    rr = runner(sbml)
    res = np.array(rr.simulate(times=[float(t) for t in times_h], selections=["time", *names]))
    np.testing.assert_allclose(res[:, 0], times_h)
    return {name: res[:, k + 1] for k, name in enumerate(names)}


# --- the document ----------------------------------------------------------------


@pytest.mark.parametrize(
    "doses",
    [
        q8h(20, 3),
        [
            Dose(0.0, "heroin", "smoked", 30.0),
            Dose(1.0, "heroin", "intranasal", 0.2, unit="mg/kg"),
            Dose(2.0, "naloxone", "im", 0.4),
            Dose(2.0, "methadone", "oral", 60.0),
            Dose(3.0, "buprenorphine", "sublingual", 8.0),
            Dose(4.0, "morphine", "oral", 30.0),
            Dose(5.0, "naltrexone", "oral", 50.0),
        ],
    ],
    ids=["heroin-iv", "every-drug"],
)
@pytest.mark.parametrize("events", ["per_dose", "table"])
def test_export_validates(doses, events):
    text = to_sbml(HUMAN, doses, events=events)
    doc = libsbml.readSBMLFromString(text)
    assert doc.getLevel() == 3 and doc.getVersion() == 2
    assert errors(doc) == []
    model = doc.getModel()
    pk = build_pk(HUMAN.values(), sorted({(d.drug, d.route) for d in doses}), 1)
    for st, unit in zip(pk.states, pk.units, strict=True):
        species = model.getSpecies(pk_id(st))
        assert species is not None, st
        assert model.getCompartment(species.getCompartment()) is not None, st
        assert species.getHasOnlySubstanceUnits() == (unit == "umol"), st
    assert model.getNumSpecies() == len(pk.states)
    assert model.getNumReactions() > 0
    for name in ("u_fast", "u_slow", "pao2"):
        assert model.getRateRuleByVariable(name) is not None
    for name in ("activation", "agonist_occupancy", "camp", "ventilation", "pao2_ss", "spo2"):
        assert model.getAssignmentRuleByVariable(name) is not None
    n_times = len({d.time_h for d in doses})
    assert model.getNumEvents() == (n_times if events == "per_dose" else 1)
    # the doses are event assignments to the dosing species
    dosed = {pk_id(pk.states[pk.dose_state[(d.drug, d.route)]]) for d in doses}
    assigned = {
        ea.getVariable()
        for k in range(model.getNumEvents())
        for ea in model.getEvent(k).getListOfEventAssignments()
        if "dose_factor" in libsbml.formulaToL3String(ea.getMath())
    }
    assert assigned == dosed


def test_provenance_and_sources_are_annotated():
    text = to_sbml(HUMAN, q8h(20, 1), subject=4, seed=7, variability=0.5)
    doc = libsbml.readSBMLFromString(text)
    model = doc.getModel()
    assert HUMAN.hash() in model.getAnnotationString()
    assert 'subject="4"' in model.getAnnotationString()
    notes = model.getNotesString()
    assert HUMAN.hash() in notes and "cardiac-arrest" in notes
    kd = model.getParameter("kd_morphine")
    assert "Dahan" in kd.getNotesString()
    assert model.getParameter("kd_morphine").getValue() == pytest.approx(
        HUMAN.sample(np.array([4]), 7, 0.5)["kd_morphine"][0], rel=1e-14
    )


def _matrix_from_sbml(model: libsbml.Model, states: list[str]) -> np.ndarray:
    """Rebuild ``dx/dt = M x`` from the reactions (mass action) and rate rules of an export."""
    index = {pk_id(st): i for i, st in enumerate(states)}
    m = np.zeros((len(states), len(states)))

    def coefficients(math_ast) -> dict[str, float]:
        out = {}
        for term in libsbml.formulaToL3String(math_ast).split("+"):
            const, var = (t.strip(" ()") for t in term.split("*"))
            out[var] = model.getParameter(const).getValue()
        return out

    for r in model.getListOfReactions():
        assert r.getNumReactants() == 1 and r.getNumProducts() <= 1 and r.getNumModifiers() == 0
        src = index[r.getReactant(0).getSpecies()]
        ((var, k),) = coefficients(r.getKineticLaw().getMath()).items()
        assert index[var] == src  # first order in the reactant
        m[src, src] -= k
        if r.getNumProducts():
            m[index[r.getProduct(0).getSpecies()], src] += k
    for sid, i in index.items():
        rule = model.getRateRuleByVariable(sid)
        if rule is not None:
            for var, k in coefficients(rule.getMath()).items():
                m[i, index[var]] += k
    return m


def test_pk_reactions_and_rate_rules_are_the_engine_matrix():
    """Reactions (amounts) plus rate rules (effect sites) reproduce the engine's PK matrix."""
    doses = [
        Dose(0.0, "heroin", "iv", 10.0),
        Dose(1.0, "heroin", "oral", 10.0),
        Dose(1.0, "heroin", "smoked", 10.0),
        Dose(2.0, "methadone", "oral", 30.0),
    ]
    pairs = sorted({(d.drug, d.route) for d in doses})
    prep = prepare(HUMAN, pairs, np.array([3]), 1, 1.0)
    model = libsbml.readSBMLFromString(
        to_sbml(HUMAN, doses, subject=3, seed=1, variability=1.0)
    ).getModel()
    a = prep.pk.matrix[0]
    m = _matrix_from_sbml(model, prep.pk.states)
    np.testing.assert_allclose(m, a, rtol=1e-13, atol=1e-13 * np.abs(a).max())
    for i, st in enumerate(prep.pk.states):
        if prep.pk.units[i] == "nM":  # effect sites keep the matrix's own named entries
            for j in np.flatnonzero(a[i]):
                value = model.getParameter(f"A_{st}__{prep.pk.states[j]}").getValue()
                assert value == pytest.approx(a[i, j], rel=1e-14)  # libsbml writes 15 digits


def test_infusions_and_empty_schedules_are_rejected_clearly():
    with pytest.raises(NotImplementedError, match="infusion"):
        to_sbml(HUMAN, [Dose(0.0, "heroin", "iv", 10.0, duration_h=0.5)])
    with pytest.raises(ValueError, match="at least one dose"):
        to_sbml(HUMAN, [])
    with pytest.raises(ValueError, match="mg/kg"):
        to_sbml(HUMAN, [Dose(0.0, "heroin", "iv", 10.0, unit="g")])


def test_write_sbml_is_atomic_and_equal_to_to_sbml(tmp_path):
    out = tmp_path / "model.xml"
    out.write_text("old")
    path = write_sbml(out, HUMAN, q8h(20, 1))
    assert path == out
    assert out.read_text(encoding="utf-8") == to_sbml(HUMAN, q8h(20, 1))
    assert [p.name for p in tmp_path.iterdir()] == ["model.xml"]


def test_sympy_to_l3_infix_round_trips_through_libsbml():
    import sympy as sp

    x, y = sp.symbols("x y")
    expr = respiration.relative_ventilation(x, 0.5, 14.0, y, 1.0) + abs(x - 1) / (1 + y) ** 3
    ast = libsbml.parseL3Formula(to_l3_infix(expr))
    assert ast is not None
    f = sp.lambdify((x, y), expr)
    for xv, yv in [(0.3, 1.0), (0.9, 0.7)]:
        text = libsbml.formulaToL3String(ast).replace("^", "**")
        assert eval(text, {"abs": abs, "sqrt": math.sqrt, "x": xv, "y": yv}) == pytest.approx(
            f(xv, yv), rel=1e-14
        )


# --- the export simulates like the engine -----------------------------------------------


def test_readout_rules_equal_the_model_functions():
    """Set the state in roadrunner; every assignment rule equals the model function's value."""
    rr = runner(to_sbml(HUMAN, q8h(20, 1)))
    prep = prepare(HUMAN, [("heroin", "iv")], np.array([0]), 0, 0.0)
    s = {k: v[0] for k, v in prep.samples.items()}
    conc = {"heroin_brain": 150.0, "6mam_brain": 80.0, "morphine_brain": 40.0, "m6g_brain": 9.0}
    uf, us, pao2 = 0.3, 0.2, 70.0
    for k, v in conc.items():
        rr[pk_id(k)] = v
    rr["u_fast"], rr["u_slow"], rr["pao2"] = uf, us, pao2
    odds = wodds = eodds = 0.0
    for li, lig in enumerate(prep.ligands):
        o = receptor.occupancy_odds(conc[f"{lig}_brain"], prep.kd[0, li])
        odds, wodds, eodds = odds + o, wodds + prep.tau[0, li] * o, eodds + prep.eps[0, li] * o
    a = receptor.activation(receptor.stimulus(wodds, odds))
    car = receptor.agonist_occupancy(eodds, odds)
    u = uf + us
    camp = signalling.camp_level(a, u, s["ac_imax"])
    a_r = respiration.respiratory_activation(car, u, s["resp_tolerance_gain"])
    v = respiration.relative_ventilation(
        a_r, s["wake_fraction"], s["co2_sensitivity"], s["p_wake"], s["p_chemo"]
    )
    po2 = respiration.pao2_steady(
        v,
        s["paco2_baseline"],
        s["fio2"],
        s["p_barometric"],
        s["p_water"],
        s["resp_quotient"],
        s["aa_gradient"],
    )
    expected = {
        "activation": a,
        "agonist_occupancy": car,
        "demand": signalling.superactivation_demand(a, s["ac_imax"], s["ac_gain"]),
        "camp": camp,
        "withdrawal": signalling.withdrawal_index(camp, s["withdrawal_scale"]),
        "opioid_effect": signalling.opioid_effect(camp, s["ac_imax"]),
        "ventilation": v,
        "pao2_ss": po2,
        "spo2": respiration.spo2(pao2, s["severinghaus_a"], s["severinghaus_b"]),
    }
    for name, value in expected.items():
        assert rr[name] == pytest.approx(value, rel=1e-12, abs=1e-14), name


def _compare_30_days(sbml: str):
    doses = q8h(20, 30)
    days = np.arange(31) * 24.0
    got = rr_simulate(sbml, days, ["u_fast", "u_slow"])
    eng = simulate(
        HUMAN, doses, 30 * 24.0, 1, variability=0.0, options=EngineOptions(record_every_h=24)
    )
    ds = eng.dataset.isel(subject=0)
    assert np.all(ds.alive.values == 1)
    for name in ("u_fast", "u_slow"):
        np.testing.assert_allclose(ds[name].values, got[name], rtol=1e-3, atol=1e-6, err_msg=name)
    # effect sites at dense times after the last morning dose (exact PK in the engine)
    dense = 29 * 24.0 + np.array([0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 7.5])
    got = rr_simulate(sbml, np.concatenate([[0.0], dense]), [pk_id(s) for s in EFFECT_SITES])
    tr = trajectory(HUMAN, doses, dense).dataset.isel(subject=0)
    for st in EFFECT_SITES:
        e = tr[f"pk_{st}"].sel(time=dense / 24.0, method="nearest").values
        r = got[pk_id(st)][1:]
        np.testing.assert_allclose(e, r, rtol=1e-4, atol=1e-9 * np.abs(r).max(), err_msg=st)


def test_roadrunner_matches_engine_30_days_q8h_per_dose_events():
    _compare_30_days(to_sbml(HUMAN, q8h(20, 30), events="per_dose"))


def test_roadrunner_matches_engine_30_days_q8h_table_event():
    _compare_30_days(to_sbml(HUMAN, q8h(20, 30), events="table"))


def test_both_event_encodings_give_the_same_trajectory():
    doses = q8h(20, 3) + [Dose(80.0, "heroin", "smoked", 30.0), Dose(80.0, "heroin", "iv", 5.0)]
    t = np.array([0.0, 8.5, 40.0, 80.0, 80.2, 96.0])
    names = ["pk_heroin", "pk_heroin_smoked_depot", "u_fast", "activation"]
    a = rr_simulate(to_sbml(HUMAN, doses, events="per_dose"), t, names)
    b = rr_simulate(to_sbml(HUMAN, doses, events="table"), t, names)
    for name in names:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize(
    "name",
    [
        "escalation-and-relapse",
        "tolerance-and-abstinence",
        "rat-iv-heroin",
        "methadone-maintenance",
    ],
)
def test_shipped_scenarios_match_the_engine(name):
    """Escalation, abstinence and re-exposure, rats, methadone: typical subject, daily U."""
    from neuroadapt.experiments.run import scenario_params
    from neuroadapt.scenarios import load_scenario

    sc = load_scenario(name)
    params, doses = scenario_params(sc), sc.all_events()
    try:
        sbml = to_sbml(params, doses)
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    t = np.arange(0.0, max(d.time_h for d in doses) + 49.0, 24.0)
    got = rr_simulate(sbml, t, ["u_fast", "u_slow"])
    eng = simulate(params, doses, t[-1], 1, variability=0.0, options=EngineOptions())
    ds = eng.dataset.isel(subject=0)
    alive = ds.alive.values == 1
    for k in ("u_fast", "u_slow"):
        np.testing.assert_allclose(
            ds[k].values[alive], got[k][alive], rtol=1e-3, atol=1e-6, err_msg=f"{name} {k}"
        )


@pytest.mark.slow
def test_roadrunner_matches_engine_one_year_variable_subjects():
    """Three variable subjects, 305 days of q8h use then 60 days off, weekly comparison."""
    doses = q8h(20, 305)
    dur = 365 * 24.0
    eng = simulate(
        HUMAN,
        doses,
        dur,
        np.array([1, 2, 3]),
        seed=11,
        variability=1.0,
        options=EngineOptions(record_every_h=168),
    )
    t = eng.dataset.time.values * 24.0
    for k, subj in enumerate((1, 2, 3)):
        ds = eng.dataset.isel(subject=k)
        alive = ds.alive.values == 1
        got = rr_simulate(
            to_sbml(HUMAN, doses, subject=subj, seed=11, variability=1.0), t, ["u_fast", "u_slow"]
        )
        for name in ("u_fast", "u_slow"):
            np.testing.assert_allclose(
                ds[name].values[alive],
                got[name][alive],
                rtol=1e-3,
                atol=1e-6,
                err_msg=f"subject {subj} {name}",
            )


# --- plain libRoadRunner at default settings, after the states underflow ------------------


def _scenario_export(name: str):
    from neuroadapt.experiments.run import scenario_params
    from neuroadapt.scenarios import load_scenario

    sc = load_scenario(name)
    return scenario_params(sc), sc.all_events()


def test_plain_roadrunner_runs_past_a_dose_after_30_drug_free_days(tmp_path):
    """tolerance-and-abstinence: 30 d q8h, 30 d off, one dose at 1440 h.

    Without the flush in the dose events, libRoadRunner 2.10 stops at t = 1440 h with
    CV_CONV_FAILURE: it scales its absolute tolerance by each state's value at every
    event, and the drug-free PK states are then 1e-40 .. 1e-160.
    """
    rr_mod = _roadrunner()
    params, doses = _scenario_export("tolerance-and-abstinence")
    path = write_sbml(tmp_path / "ta.xml", params, doses)
    rr = rr_mod.RoadRunner(str(path))
    res = rr.simulate(0, 1440, 1441)  # default tolerances, no helper
    assert res.shape[0] == 1441
    rr = rr_mod.RoadRunner(str(path))
    res = np.array(rr.simulate(0, 1488, 1489, ["time", "u_fast", "u_slow", "pk_morphine_brain"]))
    eng = simulate(params, doses, 1488.0, 1, variability=0.0, options=EngineOptions())
    ds = eng.dataset.isel(subject=0)
    assert np.all(ds.alive.values == 1)
    daily = res[::24]
    np.testing.assert_allclose(daily[:, 0] / 24.0, ds.time.values)
    for k, name in ((1, "u_fast"), (2, "u_slow")):
        np.testing.assert_allclose(ds[name].values, daily[:, k], rtol=1e-3, atol=1e-6, err_msg=name)
    assert res[1441, 3] > 1.0  # 1 h after the re-exposure dose: morphine in the brain (nM)


def test_dose_events_flush_underflowed_states():
    rr = runner(to_sbml(HUMAN, [Dose(0.0, "heroin", "iv", 20.0), Dose(240.0, "heroin", "iv", 20)]))
    rr.simulate(0, 239.9, 3)
    tiny = [s for s in ("pk_heroin", "pk_heroin_brain", "pk_6mam") if abs(rr[s]) < UNDERFLOW_FLOOR]
    assert tiny  # ten drug-free days take heroin and 6-MAM far below the floor
    rr.simulate(239.9, 240.0, 2)
    for s in tiny:
        if s != "pk_heroin":  # the dosed state is flushed, then the dose is added
            assert rr[s] == 0.0, s


def test_cli_exports_the_default_behaviour_scenario(tmp_path):
    """``export-sbml --scenario default``: the typical person's habitual use, plain roadrunner."""
    from typer.testing import CliRunner

    from neuroadapt.cli import app
    from neuroadapt.scenarios import load_scenario

    out = tmp_path / "default.xml"
    r = CliRunner().invoke(app, ["export-sbml", "--scenario", "default", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = libsbml.readSBMLFromFile(str(out))
    assert errors(doc) == []
    model = doc.getModel()
    assert model.getNumSpecies() > 0 and model.getNumReactions() > 0
    assert model.getNumEvents() == 1  # ten years of use as one table event
    assert out.stat().st_size < 500_000
    sc = load_scenario("default")
    params = load_parameters(sc.species)
    doses = habitual_doses(params, sc.behaviour)
    use_days = sc.behaviour.days()[0]
    per_day = int(round(params.values()["uses_per_day"]))
    assert len(doses) == use_days * per_day
    assert {d.amount for d in doses} == {sc.behaviour.start_dose_mg}
    assert {(d.drug, d.route) for d in doses} == {("heroin", sc.behaviour.route)}
    typical = params.values()
    assert doses[0].time_h == typical["first_use_hour"]  # the first dose on waking
    assert doses[per_day].time_h == pytest.approx(24.0 + typical["first_use_hour"])
    assert doses[per_day - 1].time_h - doses[0].time_h < typical["waking_hours"]
    rr = _roadrunner().RoadRunner(str(out))
    res = np.array(rr.simulate(0, 1440, 1441, ["time", "u_fast", "u_slow"]))
    first = [d for d in doses if d.time_h < 1440]
    eng = simulate(params, first, 1440.0, 1, variability=0.0, options=EngineOptions())
    ds = eng.dataset.isel(subject=0)
    for k, name in ((1, "u_fast"), (2, "u_slow")):
        np.testing.assert_allclose(
            ds[name].values, res[::24, k], rtol=1e-3, atol=1e-6, err_msg=name
        )


def test_cli_export_sbml_bad_scenario_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    from neuroadapt.cli import main

    out = tmp_path / "x.xml"
    monkeypatch.setattr(
        "sys.argv", ["neuroadapt", "export-sbml", "--scenario", "nope", "--out", str(out)]
    )
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_cyclic_dose_table_equals_per_dose_events():
    """Habitual use (three doses a waking day) through the cycle walker and per-dose events."""
    from neuroadapt.scenarios.schema import Behaviour

    doses = habitual_doses(HUMAN, Behaviour(use="5d", start_dose_mg=15.0))
    table = to_sbml(HUMAN, doses, events="table")
    assert "dose_phase" in table
    t = np.array([0.0, 8.5, 13.4, 30.0, 60.0, 100.0, 130.0])
    names = ["pk_heroin_brain", "u_fast", "u_slow"]
    a = rr_simulate(to_sbml(HUMAN, doses, events="per_dose"), t, names)
    b = rr_simulate(table, t, names)
    for name in names:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-7, atol=1e-12, err_msg=name)
    assert a["pk_heroin_brain"][2] > 1.0  # 13.4 h: just after the second dose of day one


def test_copasi_simulates_the_export_like_the_engine(tmp_path):
    """COPASI (basico) on the written file agrees with the fast engine."""
    basico = pytest.importorskip("basico", reason="copasi-basico is in the test extra")
    params, doses = _scenario_export("tolerance-and-abstinence")
    path = write_sbml(tmp_path / "ta.xml", params, doses)
    basico.load_model(str(path))
    tc = basico.run_time_course(start_time=0, duration=1488, intervals=62, use_sbml_id=True)
    eng = simulate(params, doses, 1488.0, 1, variability=0.0, options=EngineOptions())
    ds = eng.dataset.isel(subject=0)
    np.testing.assert_allclose(tc.index.values / 24.0, ds.time.values)
    for name in ("u_fast", "u_slow"):
        np.testing.assert_allclose(
            ds[name].values, tc[name].values, rtol=1e-3, atol=1e-6, err_msg=name
        )
