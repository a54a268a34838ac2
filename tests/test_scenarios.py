"""Scenario files: shipped scenarios load, round-trip, and bad input fails in one line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroadapt.model.dose import Dose
from neuroadapt.scenarios import (
    Scenario,
    ScenarioError,
    dump_scenario,
    list_shipped,
    load_scenario,
    loads_scenario,
)

SHIPPED = [name for name, _ in list_shipped()]
BASE = 'name = "t"\nregimen = "25 mg iv q8h x 3d"\n'


def test_expected_scenarios_are_shipped():
    assert {
        "default",
        "single-dose-routes",
        "tolerance-and-abstinence",
        "naloxone-rescue",
        "rat-iv-heroin",
        "methadone-maintenance",
    } <= set(SHIPPED)
    assert all(desc.strip() for _, desc in list_shipped())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_loads_and_round_trips(name):
    s = load_scenario(name)
    assert s.name == name
    assert s.parsed_regimen().events() if s.regimen else s.behaviour is not None
    assert loads_scenario(dump_scenario(s)) == s
    events = s.all_events()
    assert [e.time_h for e in events] == sorted(e.time_h for e in events)
    assert all(0 <= e.time_h <= s.total_duration_h() for e in events)


def test_default_scenario():
    s = load_scenario("default")
    assert (s.species, s.seed, s.cohort.subjects, s.cohort.controls) == ("human", 1, 1000, 1000)
    assert s.regimen is None and s.behaviour is not None
    assert s.behaviour.days() == (3652, 14, 730)  # 10 years of use, 2 of follow-up
    assert s.behaviour.abstinent_fraction == 0.5
    assert s.rescue is not None
    assert (s.rescue.dose_mg, s.rescue.route, s.rescue.delay_min) == (0.4, "im", 5.0)
    assert s.total_duration_h() == (3652 + 730) * 24


def test_escalation_and_relapse_scenario():
    s = load_scenario("escalation-and-relapse")
    assert s.regimen == (
        "10 mg iv q8h x 90d escalating 10% per 14d then 0 x 14d then 20 mg iv at 0 then 0 x 2d"
    )
    assert s.total_duration_h() == 106 * 24
    assert s.weight_kg() == 70.0


def test_rat_scenario_uses_weight_based_doses():
    s = load_scenario("rat-iv-heroin")
    assert s.species == "rat" and s.cohort.subjects == 24
    events = s.all_events()
    assert len(events) == 60 and {e.unit for e in events} == {"mg/kg"}
    assert s.total_duration_h() == 240.0


def test_treatments_run_on_their_own_timeline():
    s = load_scenario("methadone-maintenance")
    methadone = [e for e in s.all_events() if e.drug == "methadone"]
    assert methadone[0] == Dose(180 * 24.0, "methadone", "oral", 30.0, "mg")
    assert methadone[-1].amount == 60.0
    assert s.total_duration_h() == 360 * 24


def test_load_from_path_names_scenario_after_file(tmp_path):
    path = tmp_path / "my-study.toml"
    path.write_text('regimen = "20 mg smoked q12h x 7d"\nduration = "2w"\n')
    s = load_scenario(path)
    assert s.name == "my-study"
    assert s.total_duration_h() == 14 * 24
    assert load_scenario(str(path)) == s


def test_rescue_route_alias_is_canonicalised():
    text = BASE + '[rescue]\ndose_mg = 2.0\nroute = "Nasal"\ndelay_min = 0\n'
    s = loads_scenario(text)
    assert s.rescue is not None and s.rescue.route == "intranasal"
    assert loads_scenario(dump_scenario(s)) == s


@pytest.mark.parametrize(
    ("extra", "regimen", "field", "value"),
    [
        ("[cohort]\nsubjects = -5\n", None, "cohort.subjects", "-5"),
        ("[cohort]\nsubjets = 5\n", None, "cohort.subjets", "5"),
        ("", "25 mg ivv q8h x 3d", "regimen", "'ivv'"),
        ("", "-5 mg iv q8h x 3d", "regimen", "'-5'"),
        ("", "25 mL iv q8h x 3d", "regimen", "'ml'"),
        ("", "naltrexone 25 mg iv q8h x 3d", "regimen", "'iv'"),
        (
            '[rescue]\ndose_mg = 0.4\nroute = "oral"\ndelay_min = 1\n',
            None,
            "rescue.route",
            "'oral'",
        ),
        ('[rescue]\ndose_mg = -0.4\nroute = "im"\ndelay_min = 1\n', None, "rescue.dose_mg", "-0.4"),
        (
            "[rescue]\ndose_mg = 0.4\nprobability = 1.5\ndelay_min = 1\n",
            None,
            "rescue.probability",
            "1.5",
        ),
        ("[rescue]\ndose_mg = 0.4\n", None, "rescue.delay_min", "(missing)"),
        ('species = "mouse"\n', None, "species", "'mouse'"),
        ("seed = true\n", None, "seed", "true"),
        ("seed = 1.5\n", None, "seed", "1.5"),
        ('duration = "0d"\n', None, "duration", "'0d'"),
        ('[outputs]\nrecord_every = "daily"\n', None, "outputs.record_every", "'daily'"),
        (
            '[[treatments]]\nregimen = "60 mg oral q24h x 3d"\n',
            None,
            "treatments[0].regimen",
            "'60'",
        ),
        (
            '[[treatments]]\nregimen = "methadone 60 mg oral q24h x 3d"\nstart = "soon"\n',
            None,
            "treatments[0].start",
            "'soon'",
        ),
        ("regimn = 3\n", None, "regimn", "3"),
        ("[cohort]\nvariability = 5\n", None, "cohort.variability", "5"),
        ("[cohort]\nbody_weight_kg = 0\n", None, "cohort.body_weight_kg", "0"),
    ],
)
def test_bad_scenarios_give_one_line_errors(extra, regimen, field, value):
    text = BASE + extra
    if regimen is not None:
        text = text.replace("25 mg iv q8h x 3d", regimen)
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="bad.toml")
    err = info.value
    msg = str(err)
    assert isinstance(err, ValueError)
    assert "\n" not in msg
    assert msg.startswith(f"scenario 'bad.toml': field '{field}' = {value}: ")
    assert err.field == field and err.allowed


def test_error_message_examples():
    with pytest.raises(ScenarioError) as info:
        loads_scenario(BASE + "[cohort]\nsubjects = -5\n", source="FILE")
    assert str(info.value) == (
        "scenario 'FILE': field 'cohort.subjects' = -5: must be an integer >= 1 and <= 1000000"
    )
    with pytest.raises(
        ScenarioError,
        match=r"unknown key; allowed: subjects, variability, "
        r"body_weight_kg, age_years_mean, age_years_sd, "
        r"female_fraction, controls "
        r"\(did you mean 'subjects'\?\)",
    ):
        loads_scenario(BASE + "[cohort]\nsubjets = 5\n")


def test_toml_syntax_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(ScenarioError, match=r"invalid TOML.*line 3"):
        loads_scenario(BASE + "seed = = 3\n", source="x.toml")
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")
    with pytest.raises(ScenarioError, match="shipped: .*default"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="required key is missing"):
        loads_scenario('name = "x"\n')


def test_many_errors_are_counted_on_one_line():
    with pytest.raises(ScenarioError, match=r"\(and 2 more problems\)"):
        loads_scenario(BASE + "seed = -1\nspecies = 'cat'\n[cohort]\nsubjects = 0\n")


text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=100, deadline=None)
@given(
    description=text_values,
    subjects=st.integers(1, 1_000_000),
    variability=st.floats(0, 3),
    seed=st.integers(0, 2**63 - 1),
    weight=st.one_of(st.none(), st.floats(40, 150)),  # the human body_weight bounds
)
def test_dump_load_round_trip_property(description, subjects, variability, seed, weight):
    s = Scenario(
        name="p",
        description=description,
        regimen="20 mg iv at 0 then 0 x 1d",
        seed=seed,
        cohort={"subjects": subjects, "variability": variability, "body_weight_kg": weight},
    )
    assert loads_scenario(dump_scenario(s)) == s


# ------------------------------------------- options a kind of scenario cannot act on
LIFE = 'name = "t"\n[behaviour]\nuse = "1y"\nfollow_up = "1y"\n'


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        (
            LIFE + '[[treatments]]\nregimen = "naltrexone 50 mg oral q24h x 180d"\n',
            "treatments",
            "cannot apply treatments",
        ),
        ('name = "t"\nduration = "3y"\n' + LIFE[11:], "duration", "remove 'duration'"),
        (LIFE + '[outputs]\nrecord_every = "36h"\n', "outputs.record_every", "whole days"),
        (LIFE + '[outputs]\nrecord_every = "1h"\n', "outputs.record_every", "whole days"),
        ('species = "rat"\n' + LIFE, "species", "must be 'human'"),
        (LIFE.replace('"1y"\n', '"1y"\ndetox = "2y"\n', 1), "behaviour.detox", "follow_up"),
        (
            BASE + '[outputs]\nrecord_every = "1h"\n[cohort]\ncontrols = 5\n',
            "cohort.controls",
            "'1d'",
        ),
        (
            BASE + '[outputs]\nrecord_every = "1h"\n[cohort]\nage_years_mean = 50.0\n',
            "cohort.age_years_mean",
            "brain scales",
        ),
        (
            BASE + '[outputs]\nrecord_every = "1h"\n[cohort]\nfemale_fraction = 1.0\n',
            "cohort.female_fraction",
            "brain scales",
        ),
        (BASE + "[outputs]\nfigures = false\n", "outputs.figures", "--no-report"),
        (BASE + 'duration = "1d"\n', "duration", "last dose"),
    ],
)
def test_an_option_the_scenario_cannot_act_on_is_an_error(text, field, needle):
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text)
    assert info.value.field == field, str(info.value)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "(missing)" not in str(info.value)  # the value is shown


def test_options_that_act_are_accepted():
    loads_scenario(LIFE + '[outputs]\nrecord_every = "7d"\n[cohort]\ncontrols = 3\n')
    loads_scenario(BASE + "[cohort]\ncontrols = 3\nage_years_mean = 50.0\n")  # daily clock
    loads_scenario(BASE + '[outputs]\nrecord_every = "1h"\n[cohort]\nage_years_mean = 35.0\n')
    loads_scenario(BASE + 'duration = "4d"\n')


# ------------------------------------------------------------- physical ranges
@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        (BASE + "[cohort]\nbody_weight_kg = 1.5\n", "cohort.body_weight_kg", ">= 40 and <= 150"),
        (BASE + "[cohort]\nbody_weight_kg = 400.0\n", "cohort.body_weight_kg", "<= 150"),
        (
            'species = "rat"\n' + BASE + "[cohort]\nbody_weight_kg = 70.0\n",
            "cohort.body_weight_kg",
            "rat body weight >= 0.2 and <= 0.6",
        ),
        (BASE + "[rescue]\ndose_mg = 101.0\ndelay_min = 5.0\n", "rescue.dose_mg", "<= 100"),
        (BASE + "[rescue]\ndose_mg = 0.4\ndelay_min = 1441.0\n", "rescue.delay_min", "<= 1440"),
        (
            BASE + "[rescue]\ndose_mg = 0.4\ndelay_min = 5.0\ntrigger_pao2_mmhg = 5.0\n",
            "rescue.trigger_pao2_mmhg",
            ">= 10 and <= 80",
        ),
        (LIFE.replace('use = "1y"', 'use = "1e300y"'), "behaviour.use", "within 100y"),
        (
            LIFE.replace('"1y"\n', '"1y"\n', 1).replace('follow_up = "1y"', 'follow_up = "99.5y"'),
            "behaviour.follow_up",
            "use + follow_up",
        ),
        (BASE + 'duration = "101y"\n', "duration", "within 100y"),
        ('species = "rat"\n' + BASE.replace("3d", "5y"), "regimen", "within 4y"),
        (
            BASE + '[[treatments]]\nregimen = "methadone 60 mg oral q24h x 1d"\nstart = "200y"\n',
            "treatments[0]",
            "within 100y",
        ),
        (BASE + '[outputs]\nrecord_every = "1e-300h"\n', "outputs.record_every", "at least 1s"),
        (
            'name = "t"\nregimen = "methadone 1 mg iv over 1e300y at 0"\n',
            "regimen",
            "infusions included",
        ),
        (
            BASE + '[outputs]\nrecord_every = "1s"\n[cohort]\nsubjects = 100\n',
            "outputs.record_every",
            "at most 2e+07",
        ),
        (
            'name = "t"\nregimen = "1 mg iv q1h x 6y"\n'
            '[[treatments]]\nregimen = "methadone 1 mg oral q1h x 6y"\n',
            "treatments",
            "at most 100000 doses",
        ),
        ('name = "../up"\nregimen = "1 mg iv at 0"\n', "name", "without '/'"),
    ],
)
def test_out_of_range_values_name_field_value_and_bounds(text, field, needle):
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text)
    assert info.value.field == field, str(info.value)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "(missing)" not in str(info.value)
