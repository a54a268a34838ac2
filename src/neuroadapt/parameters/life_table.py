"""The general-population life table: probability of dying within a year, by age and sex.

``life_table.csv`` beside this module holds one row per (single year of age,
sex) with ``qx``, the probability that a person alive at exact age ``x``
dies before exact age ``x + 1``, its unit (``dimensionless``) and its source.
The last age is the open interval ("100 and over", ``qx = 1``).

The table is data, not a parameter: it has no per-subject variability and
no bounds, so it lives in its own file with its own columns rather than in
``table*.csv``. Every row must carry a unit and a source, as parameters do.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from neuroadapt.parameters.table import ParameterError

__all__ = ["LIFE_TABLE_COLUMNS", "LifeTable", "load_life_table", "read_life_table_rows"]

#: Columns of ``life_table.csv``.
LIFE_TABLE_COLUMNS = ("age", "sex", "qx", "unit", "source")
SEXES = ("male", "female")


@dataclass(frozen=True)
class LifeTable:
    """``qx`` by single year of age for males and females (ages ``ages[0]`` .. ``ages[-1]``).

    ``qx[0]`` holds males, ``qx[1]`` females; ``qx[:, i]`` is for age ``ages[i]``.
    """

    ages: np.ndarray
    qx: np.ndarray
    sources: tuple[str, ...]

    def hash(self) -> str:
        """SHA-256 of the ages and values (identifies the table in cache keys)."""
        payload = self.ages.tobytes() + self.qx.tobytes()
        return hashlib.sha256(payload).hexdigest()[:16]


def read_life_table_rows(text: str | None = None) -> list[dict[str, str]]:
    """Raw rows of the shipped life table (or of the CSV ``text``)."""
    if text is None:
        text = files("neuroadapt.parameters").joinpath("life_table.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def parse_life_table(rows: list[dict[str, str]]) -> LifeTable:
    """Check and arrange life-table rows (one-line errors naming the row and field)."""
    by_sex: dict[str, dict[int, float]] = {s: {} for s in SEXES}
    sources: list[str] = []
    for i, row in enumerate(rows, start=2):
        for col in LIFE_TABLE_COLUMNS:
            if not (row.get(col) or "").strip():
                raise ParameterError(f"life table line {i}: column '{col}' is empty")
        if row["sex"] not in SEXES:
            raise ParameterError(f"life table line {i}: sex '{row['sex']}' not in male, female")
        if row["unit"] != "dimensionless":
            raise ParameterError(
                f"life table line {i}: unit '{row['unit']}' must be 'dimensionless' (qx is "
                "a probability)"
            )
        age, qx = int(row["age"]), float(row["qx"])
        if not 0.0 <= qx <= 1.0:
            raise ParameterError(f"life table line {i}: qx {qx} outside [0, 1]")
        if age in by_sex[row["sex"]]:
            raise ParameterError(f"life table line {i}: age {age} ({row['sex']}) appears twice")
        by_sex[row["sex"]][age] = qx
        if row["source"] not in sources:
            sources.append(row["source"])
    ages = sorted(by_sex["male"])
    if not ages or sorted(by_sex["female"]) != ages or ages != list(range(ages[0], ages[-1] + 1)):
        raise ParameterError("life table: males and females need the same contiguous ages")
    qx = np.array([[by_sex[s][a] for a in ages] for s in SEXES])
    if np.any(qx[:, -1] != 1.0) or np.any(qx[:, :-1] >= 1.0):
        raise ParameterError("life table: only the last (open) age may have qx = 1")
    return LifeTable(np.asarray(ages, dtype=np.int64), qx, tuple(sources))


@cache
def load_life_table() -> LifeTable:
    """The shipped life table (NCHS United States Life Tables 2019; see its source column)."""
    return parse_life_table(read_life_table_rows())
