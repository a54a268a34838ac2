"""The drug table (model/drugs.csv) and the CMT ledger (model/cmt.csv)."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from importlib import resources

import numpy as np
import pytest
from scipy.linalg import expm

from neuroadapt.io.nonmem import cmt_table
from neuroadapt.model import pk, receptor
from neuroadapt.model.drugs import (
    DrugTableError,
    load_drug_table,
    pk_parameter_names,
    receptor_parameter_names,
)
from neuroadapt.model.routes import (
    ALLOWED_ROUTES,
    DRUG_ALIASES,
    DRUG_TABLE,
    DRUGS,
    ROUTES,
    cmt_number,
    cmt_pair,
    dosing_compartments,
)
from neuroadapt.parameters import ParameterSet, load_parameters, read_rows

#: The CMT numbers as they were when they were still list positions (commit
#: eccbff0); NONMEM files written since then rely on them. Never edit this list.
CMT_NUMBERS = [
    (1, ("heroin", "iv")),
    (2, ("heroin", "smoked")),
    (3, ("heroin", "intranasal")),
    (4, ("heroin", "im")),
    (5, ("heroin", "sc")),
    (6, ("heroin", "oral")),
    (7, ("morphine", "iv")),
    (8, ("morphine", "im")),
    (9, ("morphine", "sc")),
    (10, ("morphine", "oral")),
    (11, ("methadone", "iv")),
    (12, ("methadone", "oral")),
    (13, ("buprenorphine", "iv")),
    (14, ("buprenorphine", "sublingual")),
    (15, ("naloxone", "iv")),
    (16, ("naloxone", "intranasal")),
    (17, ("naloxone", "im")),
    (18, ("naloxone", "sc")),
    (19, ("naltrexone", "oral")),
    (20, ("fentanyl", "iv")),
    (21, ("fentanyl", "intranasal")),
]

FAKE = "fakoxone"  # a one-compartment antagonist with naltrexone's parameters


def _text(name: str) -> str:
    return resources.files("neuroadapt.model").joinpath(name).read_text(encoding="utf-8")


def test_existing_cmt_numbers_never_change():
    assert list(enumerate(dosing_compartments(), 1)) == CMT_NUMBERS
    for number, (drug, route) in CMT_NUMBERS:
        assert cmt_number(drug, route) == number
        assert cmt_pair(number) == (drug, route)
    table = cmt_table()
    assert (
        list(zip(table.CMT, zip(table.DRUG, table.ROUTE, strict=True), strict=True))
        == (CMT_NUMBERS[: len(table)])
    )


def test_the_public_names_come_from_the_table():
    assert DRUGS == DRUG_TABLE.names
    assert DRUGS[:7] == (
        "heroin",
        "morphine",
        "methadone",
        "buprenorphine",
        "naloxone",
        "naltrexone",
        "fentanyl",
    )
    assert ALLOWED_ROUTES["methadone"] == ("oral", "iv")
    assert ALLOWED_ROUTES["naloxone"] == ("iv", "im", "intranasal", "sc")
    assert DRUG_ALIASES == {"diamorphine": "heroin", "diacetylmorphine": "heroin"}
    assert pk.LIGANDS[:9] == (
        "heroin",
        "6mam",
        "morphine",
        "m6g",
        "methadone",
        "buprenorphine",
        "naloxone",
        "naltrexone",
        "fentanyl",
    )
    assert pk.DRUG_MW["fentanyl"] == "mw_fentanyl"


def test_an_unknown_pair_is_a_clear_error():
    with pytest.raises(ValueError, match="fentanyl smoked is not a dosing compartment"):
        cmt_number("fentanyl", "smoked")
    with pytest.raises(ValueError, match=r"allowed 1\.\.21"):
        cmt_pair(len(dosing_compartments()) + 1)


class _Recorder(dict):
    def __init__(self, data, seen):
        super().__init__(data)
        self.seen = seen

    def __getitem__(self, key):
        self.seen.add(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        self.seen.add(key)
        return dict.__contains__(self, key)


@pytest.mark.parametrize("drug", DRUG_TABLE.drugs, ids=lambda d: d.name)
def test_build_pk_reads_the_parameters_the_table_lists(drug):
    seen: set[str] = set()
    params = _Recorder(load_parameters("human").values(), seen)
    model = pk.build_pk(params, [(drug.name, r) for r in drug.routes], 2)
    assert seen == set(pk_parameter_names(drug))
    assert set(drug.ligands) == set(model.effect_state)


def test_the_module_declarations_cover_the_table_drugs():
    names = {row["name"] for row in read_rows()}
    for drug in DRUG_TABLE.drugs:
        assert set(pk_parameter_names(drug)) <= set(pk.PARAMETERS)
        for lig in drug.ligands:
            assert set(receptor_parameter_names(lig, names)) <= set(receptor.PARAMETERS)


# --- adding a drug ----------------------------------------------------------


def _fake_parameter_rows() -> list[dict[str, str]]:
    """The parameter table plus a copy of every naltrexone row under the fake name."""
    rows = read_rows()
    return rows + [
        {**r, "name": r["name"].replace("naltrexone", FAKE)}
        for r in rows
        if "naltrexone" in r["name"].split("_")
    ]


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _fake_files(tmp_path, middle: bool = False) -> tuple[str, str]:
    lines = _text("drugs.csv").splitlines()
    row = f"{FAKE},fako,one_compartment,{FAKE},mw_{FAKE},{FAKE},oral iv,v,test drug"
    lines.insert(3 if middle else len(lines), row)
    n = len(_text("cmt.csv").splitlines())  # header + one line per CMT
    cmt = _text("cmt.csv") + f"{n},{FAKE},oral\n{n + 1},{FAKE},iv\n"
    return _write(tmp_path / "drugs.csv", "\n".join(lines) + "\n"), _write(
        tmp_path / "cmt.csv", cmt
    )


@pytest.mark.parametrize("middle", [False, True], ids=["appended", "inserted"])
def test_adding_a_drug_keeps_every_cmt_and_appends_new_ones(tmp_path, middle):
    drugs, cmt = _fake_files(tmp_path, middle)
    table = load_drug_table(ROUTES, drugs, cmt, _fake_parameter_rows())
    for pair, number in DRUG_TABLE.cmt.items():
        assert table.cmt[pair] == number
    n = len(DRUG_TABLE.cmt)
    assert table.cmt[(FAKE, "oral")] == n + 1 and table.cmt[(FAKE, "iv")] == n + 2
    assert table.aliases["fako"] == FAKE
    assert (FAKE in table.ligands) and set(DRUG_TABLE.ligands) < set(table.ligands)


def _fake_parameters() -> ParameterSet:
    ps = load_parameters("human")
    fakes = {
        k.replace("naltrexone", FAKE): replace(p, name=k.replace("naltrexone", FAKE))
        for k, p in ps.params.items()
        if "naltrexone" in k.split("_")
    }
    return ParameterSet({**ps.params, **fakes}, "human")


def test_a_new_one_compartment_drug_needs_no_code(tmp_path, monkeypatch):
    """Its row and its parameters give its PK block, its CMTs and its receptor numbers."""
    from neuroadapt.engine import preparation

    drugs, cmt = _fake_files(tmp_path)
    table = load_drug_table(ROUTES, drugs, cmt, _fake_parameter_rows())
    values = _fake_parameters().values()
    fake = pk.build_pk(values, [(FAKE, "oral"), (FAKE, "iv")], 1, table=table)
    real = pk.build_pk(values, [("naltrexone", "oral")], 1, table=table)
    np.testing.assert_array_equal(fake.matrix, real.matrix)
    assert fake.states == [FAKE, f"{FAKE}_brain", f"{FAKE}_oral_depot"]
    np.testing.assert_array_equal(
        fake.dose_factor[(FAKE, "oral")], real.dose_factor[("naltrexone", "oral")]
    )

    # closed form: an IV bolus decays with the tabulated half-life
    k = math.log(2.0) / values[f"t_half_{FAKE}"]
    x0 = np.zeros(fake.n)
    x0[fake.dose_state[(FAKE, "iv")]] = 50.0 * fake.dose_factor[(FAKE, "iv")][0]
    x = expm(fake.matrix[0] * 6.0) @ x0
    assert x[fake.central_state[FAKE]] == pytest.approx(x0.sum() * math.exp(-6.0 * k), rel=1e-12)

    # the engine finds the new ligand's receptor numbers by name (an antagonist here)
    monkeypatch.setattr(pk, "DRUG_TABLE", table)
    monkeypatch.setattr(preparation, "LIGANDS", table.ligands)
    prep = preparation.prepare(_fake_parameters(), [(FAKE, "oral")], np.arange(2), 1, 0.0)
    assert prep.ligands == [FAKE]
    expected = values["kd_morphine"] * values["affinity_ratio_naltrexone"]
    np.testing.assert_allclose(prep.kd[:, 0], expected)
    assert (prep.tau == 0).all() and (prep.eps == 0).all()


# --- bad tables ---------------------------------------------------------------


def _bad(tmp_path, drugs_text=None, cmt_text=None, rows=None) -> str:
    drugs = _write(tmp_path / "drugs.csv", drugs_text or _text("drugs.csv"))
    cmt = _write(tmp_path / "cmt.csv", cmt_text or _text("cmt.csv"))
    with pytest.raises(DrugTableError) as err:
        load_drug_table(ROUTES, drugs, cmt, rows)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_repeated_cmt_number_is_a_one_line_error(tmp_path):
    cmt = _text("cmt.csv") + "21,fentanyl,intranasal\n"
    assert "numbers run 1, 2, 3" in _bad(tmp_path, cmt_text=cmt)


def test_a_renumbered_or_repeated_pair_is_an_error(tmp_path):
    lines = _text("cmt.csv").splitlines()
    assert "already has CMT" in _bad(tmp_path, cmt_text="\n".join([*lines, "22,heroin,iv"]) + "\n")
    lines[1], lines[2] = "1,heroin,smoked", "2,heroin,iv"  # a swap keeps the ledger valid
    table = load_drug_table(ROUTES, cmt_path=_write(tmp_path / "c.csv", "\n".join(lines) + "\n"))
    assert table.cmt[("heroin", "iv")] != CMT_NUMBERS[0][0]  # ... which the list above catches


def test_an_unknown_structure_is_a_one_line_error(tmp_path):
    text = _text("drugs.csv").replace("mammillary3", "mammillary4")
    assert "unknown structure 'mammillary4'" in _bad(tmp_path, drugs_text=text)


def test_a_route_without_a_cmt_number_is_an_error(tmp_path):
    text = _text("drugs.csv").replace(",naltrexone,oral,v", ",naltrexone,oral sc,v")
    assert "append the row '22,naltrexone,sc'" in _bad(tmp_path, drugs_text=text)


def test_a_missing_parameter_is_an_error(tmp_path):
    drugs, cmt = _fake_files(tmp_path)
    rows = [r for r in _fake_parameter_rows() if r["name"] != f"ka_{FAKE}_oral"]
    with pytest.raises(DrugTableError, match=f"no human value for ka_{FAKE}_oral"):
        load_drug_table(ROUTES, drugs, cmt, rows)
    with pytest.raises(DrugTableError, match=f"affinity_ratio_{FAKE}"):
        load_drug_table(ROUTES, drugs, cmt, read_rows())


def test_the_tables_are_package_data():
    rows = list(csv.DictReader(_text("drugs.csv").splitlines()))
    assert [r["name"] for r in rows] == list(DRUGS)
