"""The model registry (model/system.py): one list of modules, checked against the table."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from neuroadapt.model import system
from neuroadapt.parameters import load_parameters

SPECIES = ("human", "rat")


def _units() -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for species in SPECIES:
        for name, p in load_parameters(species).params.items():
            units.setdefault(name, set()).add(p.unit)
    return units


def _rows(filename: str) -> set[str]:
    text = resources.files("neuroadapt.parameters").joinpath(filename).read_text(encoding="utf-8")
    return {row["name"] for row in csv.DictReader(text.splitlines())}


@pytest.mark.parametrize("module", system.MODULES[1:], ids=lambda m: m.name)
def test_every_declared_parameter_is_in_the_table_with_its_unit(module):
    units = _units()
    assert module.parameters, f"{module.name} declares no parameters"
    for name, unit in module.parameters.items():
        assert name in units, f"{module.name} declares {name}, which no parameter table has"
        assert unit in units[name], f"{module.name}: {name} is in {units[name]}, not {unit}"


def test_every_row_of_the_fast_table_belongs_to_a_fast_module():
    declared = {n for m in system.MODULES if m.kind == "fast" for n in m.parameters}
    assert _rows("table.csv") - declared == set()


#: Rows of a brain module's table that its equations do not read, and who reads them.
NOT_READ_BY_THE_MODULE = {
    "da_pet_population_cv": "PET between-subject CV, for effect sizes in the calibration",
    "str_population_cv": "gray-matter between-person CV, for effect sizes in the report",
    "wm_population_cv": "FA between-person CV, for effect sizes in the report",
    "cog_impairment_control_rate": "impairment rate of controls, for the calibration",
}


@pytest.mark.parametrize("module", system.BRAIN_MODULES, ids=lambda m: m.NAME)
def test_a_brain_module_declares_the_rows_of_its_own_table(module):
    own = _rows(f"table_{module.NAME}.csv") - set(NOT_READ_BY_THE_MODULE)
    assert own - set(module.PARAMETERS) == set()


def test_every_input_is_provided_before_it_is_read():
    known = set(system.COVARIATES)
    for m in system.MODULES:
        missing = [q for q in m.inputs if q not in known]
        assert not missing, f"{m.name} reads {missing}, which no earlier module provides"
        known |= set(m.outputs)


def test_the_couplings_follow_from_the_declarations():
    names = [m.name for m in system.MODULES]
    assert {c.source for c in system.COUPLINGS} | {c.target for c in system.COUPLINGS} == set(names)
    for c in system.COUPLINGS:
        assert names.index(c.source) < names.index(c.target)


def test_the_engine_reads_the_registry():
    from neuroadapt.engine import brain

    assert brain.available_brain_modules() == list(system.BRAIN_MODULES)
    assert brain.DRIVERS == system.DRIVERS and brain.BRAIN_MODULES == system.BRAIN_MODULE_NAMES


class _Recorder(dict):
    """Per-subject parameters that note every name a module reads."""

    def __init__(self, data, seen):
        super().__init__(data)
        self.seen = seen

    def __getitem__(self, key):
        self.seen.add(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self.seen.add(key)
        return dict.get(self, key, default)

    def __contains__(self, key):
        self.seen.add(key)
        return dict.__contains__(self, key)


def test_brain_modules_read_only_the_parameters_they_declare(monkeypatch):
    """A short life course with detoxification, every brain module wrapped in a recorder."""
    import neuroadapt as na
    from neuroadapt.engine.brain import BrainClock

    seen: dict[str, set[str]] = {m.NAME: set() for m in system.BRAIN_MODULES}
    advance = BrainClock.advance
    calls = [0]

    def recording(self, drivers, day, dt_d):
        calls[0] += 1
        saved = [(mod, mod.step, mod.observe) for mod in self.modules]
        for mod, step, observe in saved:
            rec = _Recorder(self.p, seen[mod.NAME])
            mod.step = lambda s, i, p, d, f=step, r=rec: f(s, i, r, d)
            mod.observe = lambda s, i, p, f=observe, r=rec: f(s, i, r)
        try:
            return advance(self, drivers, day, dt_d)
        finally:
            for mod, step, observe in saved:
                mod.step, mod.observe = step, observe

    monkeypatch.setattr(BrainClock, "advance", recording)
    monkeypatch.setenv("NEUROADAPT_WORKERS", "1")
    text = (
        'name = "registry"\nseed = 2\n[behaviour]\nuse = "2y"\nfollow_up = "1y"\n'
        '[cohort]\nsubjects = 12\n[outputs]\nrecord_every = "30d"\n'
    )
    na.simulate(na.loads_scenario(text))
    internal = ("stream_seed", "subject_index")  # keys of the per-subject random streams
    for mod in system.BRAIN_MODULES:
        read = {k for k in seen[mod.NAME] if not k.startswith("__memo__") and k not in internal}
        assert read, f"{mod.NAME} read no parameter"
        assert calls[0] > 30, "the recorder saw too few days"
        assert read - set(mod.PARAMETERS) == set(), mod.NAME


def test_the_structure_diagram_shows_every_module():
    from neuroadapt.report.diagram import structure_figure

    fig = structure_figure()
    text = " ".join(" ".join(t.get_text().split()) for t in fig.axes[0].texts).lower()
    for m in system.MODULES:
        assert m.title.lower() in text, m.name


def test_the_rat_lab_runs_the_brain_modules_its_behaviour_reads():
    from neuroadapt.engine.operant import BEHAVIOUR_READS, BRAIN_FOR_BEHAVIOUR

    assert BRAIN_FOR_BEHAVIOUR == ("dopamine", "glutamate", "inflammation", "affect")
    assert [m.NAME for m in system.brain_modules_for(("cognition_z_composite",))] == [
        "glutamate", "inflammation", "structure", "white_matter", "cognition"
    ]  # fmt: skip
    assert all(v.split("_")[0] in BRAIN_FOR_BEHAVIOUR for v in BEHAVIOUR_READS.values())
