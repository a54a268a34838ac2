import csv
import math

import numpy as np
import pint
import pytest

from neuroadapt.parameters import ParameterError, load_parameters, read_rows
from neuroadapt.parameters.table import COLUMNS, _parse_row

ROWS = read_rows()
UREG = pint.UnitRegistry()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['name']}-{r['species']}" for r in ROWS])
def test_every_row_has_unit_source_bounds(row):
    for col in COLUMNS:
        assert row[col] and row[col].strip(), f"{row['name']}: empty {col}"
    UREG.Quantity(1.0, row["unit"])  # parsable
    lo, val, hi = float(row["lower"]), float(row["value"]), float(row["upper"])
    assert lo <= val <= hi
    src = row["source"].lower()
    if row["fitted"] == "yes":
        assert src.startswith("fitted"), "a fitted parameter must say what it was fitted to"
    else:
        assert not src.startswith("fitted")
    markers = ("doi:", "PMID", "PMC", "PubChem", "prescribing information", " 19", " 20")
    has_ref = any(k in row["source"] for k in markers)
    assert src.startswith("assumption") or src.startswith("standard") or has_ref


def test_row_without_source_fails():
    row = dict(ROWS[0])
    row["source"] = ""
    with pytest.raises(ParameterError, match="source"):
        _parse_row(row)


def test_row_without_unit_or_with_bad_unit_fails():
    row = dict(ROWS[0])
    row["unit"] = "furlongs per fortnight squared banana"
    with pytest.raises(ParameterError, match="unit"):
        _parse_row(row)


def test_value_outside_bounds_fails():
    row = dict(ROWS[0])
    row["value"] = str(float(row["upper"]) * 10 + 1)
    with pytest.raises(ParameterError, match="bounds"):
        _parse_row(row)


@pytest.mark.parametrize("species", ["human", "rat"])
def test_species_sets_are_complete_and_converted(species):
    p = load_parameters(species)
    assert len(p) > 100
    # internal units: hours and mmHg
    assert math.isclose(p["arrest_delay"], 220 / 3600)
    assert math.isclose(p["t_half_ac_fast"], 26.0)
    assert p.params["body_weight"].internal_unit == "kg"


def test_unit_conversion_minutes_to_hours():
    p = load_parameters("human")
    assert math.isclose(p["t_half_heroin"], 3.0 / 60.0)
    assert math.isclose(p["cl_heroin"], 30.8e-3 * 60)  # mL/min/kg -> L/h/kg


def test_sampling_is_per_subject_and_chunk_independent():
    p = load_parameters("human")
    a = p.sample(np.arange(10), seed=3)
    b = p.sample(np.arange(5, 10), seed=3)
    for k in ("t_half_heroin", "kd_morphine", "body_weight"):
        np.testing.assert_array_equal(a[k][5:], b[k])
    c = p.sample(np.arange(10), seed=4)
    assert not np.allclose(a["kd_morphine"], c["kd_morphine"])


def test_sampling_respects_bounds_and_zero_variability():
    p = load_parameters("human")
    s = p.sample(np.arange(500), seed=1, variability=3.0)
    for k, q in p.params.items():
        assert np.all(s[k] >= q.lower - 1e-12) and np.all(s[k] <= q.upper + 1e-12), k
    z = p.sample(np.arange(3), seed=1, variability=0.0)
    assert np.allclose(z["kd_morphine"], p["kd_morphine"])


def test_hash_changes_with_values():
    p = load_parameters("human")
    assert p.hash() != p.with_values(kd_morphine=40.0).hash()
    with pytest.raises(ParameterError):
        p.with_values(kd_morphine=1e6)


def test_table_is_valid_csv_with_unique_rows():
    keys = [(r["name"], r["species"]) for r in ROWS]
    assert len(keys) == len(set(keys))
    with open(
        __import__("neuroadapt.parameters.table", fromlist=["x"]).__file__.replace(
            "table.py", "table.csv"
        ),
        newline="",
    ) as f:
        header = next(csv.reader(f))
    assert tuple(header) == COLUMNS


def test_draws_do_not_depend_on_other_parameters():
    from neuroadapt.streams import standard_normal_stream

    p = load_parameters("human")
    a = p.sample(np.arange(6), seed=2)
    smaller = type(p)({k: v for k, v in p.params.items() if k != "kd_morphine"}, "human")
    b = smaller.sample(np.arange(6), seed=2)
    np.testing.assert_array_equal(a["t_half_heroin"], b["t_half_heroin"])
    z = standard_normal_stream(0, np.arange(50_000), "x")
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


def test_compiled_splitmix_equals_the_numpy_one():
    """The numba kernels' hash is the parameter streams' hash (one uint64 at a time)."""
    from neuroadapt.streams import splitmix64, splitmix64_one

    rng = np.random.default_rng(0)
    x = np.r_[np.uint64(0), np.uint64(2**64 - 1), rng.integers(0, 2**63, 200, dtype=np.uint64)]
    expected = splitmix64(x)
    assert all(splitmix64_one(v) == e for v, e in zip(x, expected, strict=True))
