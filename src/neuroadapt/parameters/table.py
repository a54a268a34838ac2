"""The parameter table: one row per parameter, with unit, bounds, variability and source.

Every number the model uses lives in ``table.csv`` beside this module. Units
are parsed with pint and converted once, at load, into the internal system
(hours, litres, micromoles, nanomolar, mmHg, kilograms); equations inside the
model then work on plain floats.

Inter-individual variability is log-normal with the tabulated coefficient of
variation (``cv``), scaled by the scenario's ``variability`` and clipped to
the parameter's bounds. Each (subject, parameter) draws from its own
counter-based random stream, so a cohort's numbers depend neither on how it
is split into chunks nor on which other parameters the table holds.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Literal

import numpy as np
import pint

from neuroadapt.streams import standard_normal_stream

Species = Literal["human", "rat"]
SPECIES: tuple[str, ...] = ("human", "rat")
COLUMNS = (
    "name",
    "species",
    "value",
    "unit",
    "lower",
    "upper",
    "cv",
    "fitted",
    "description",
    "source",
)

#: The internal unit system: a unit listed here is kept; otherwise the first unit
#: whose dimensionality matches is used (so body weights are in kg, drug amounts in mg).
INTERNAL_UNITS: tuple[str, ...] = (
    "dimensionless",
    "h",
    "1/h",
    "kg",
    "L",
    "L/h",
    "L/h/kg",
    "L/kg",
    "nM",
    "g/mol",
    "mmHg",
    "mmHg**2",
    "mmHg**3",
    "mg",
    "mm",
)

ureg = pint.UnitRegistry()
ureg.define("dimensionless_ = [] = fraction")


class ParameterError(ValueError):
    """A parameter row is missing a field, has a bad unit, or lies outside its bounds."""


@dataclass(frozen=True)
class Parameter:
    """One row of the parameter table, in internal units."""

    name: str
    species: str
    value: float
    unit: str
    internal_unit: str
    lower: float
    upper: float
    cv: float
    fitted: bool
    description: str
    source: str
    table_value: float

    @property
    def is_assumption(self) -> bool:
        """Whether the source is a stated assumption rather than a citation."""
        return self.source.strip().lower().startswith("assumption")


def _to_internal(value: float, unit: str, name: str) -> tuple[float, str]:
    try:
        q = ureg.Quantity(value, unit)
    except Exception as exc:  # pint raises several error types
        raise ParameterError(f"parameter '{name}': unit '{unit}' is not a pint unit") from exc
    if unit in INTERNAL_UNITS:  # e.g. drug amounts in mg beside body weights in kg
        return float(value), unit
    for target in INTERNAL_UNITS:
        if q.dimensionality == ureg.Quantity(1, target).dimensionality:
            return float(q.to(target).magnitude), target
    raise ParameterError(f"parameter '{name}': unit '{unit}' has no internal unit")


def table_files() -> list[str]:
    """Names of the CSV files that make up the one parameter table.

    ``table.csv`` holds the pharmacology core; each later scale keeps its rows
    in its own ``table_<module>.csv`` with the same columns. Other CSV files
    beside them are data tables with their own columns (``life_table.csv``).
    """
    names = [
        f.name
        for f in files("neuroadapt.parameters").iterdir()
        if f.name.startswith("table") and f.name.endswith(".csv")
    ]
    return sorted(names, key=lambda n: (n != "table.csv", n))


def read_rows(path: str | None = None) -> list[dict[str, str]]:
    """Read the raw rows of the parameter table (every shipped table file by default)."""
    if path:
        with open(path, encoding="utf-8") as f:
            return list(csv.DictReader(f.read().splitlines()))
    rows: list[dict[str, str]] = []
    for name in table_files():
        text = files("neuroadapt.parameters").joinpath(name).read_text(encoding="utf-8")
        rows.extend(csv.DictReader(text.splitlines()))
    return rows


def _parse_row(row: dict[str, str]) -> Parameter:
    name = row.get("name", "").strip()
    for col in COLUMNS:
        if col not in row or row[col] is None or str(row[col]).strip() == "":
            raise ParameterError(f"parameter '{name or '?'}': column '{col}' is empty")
    if row["species"] not in (*SPECIES, "all"):
        raise ParameterError(
            f"parameter '{name}': species '{row['species']}' not in human, rat, all"
        )
    value, internal = _to_internal(float(row["value"]), row["unit"], name)
    lower, _ = _to_internal(float(row["lower"]), row["unit"], name)
    upper, _ = _to_internal(float(row["upper"]), row["unit"], name)
    if not lower <= value <= upper:
        raise ParameterError(
            f"parameter '{name}' ({row['species']}): value {row['value']} outside bounds "
            f"[{row['lower']}, {row['upper']}] {row['unit']}"
        )
    cv = float(row["cv"])
    if cv < 0:
        raise ParameterError(f"parameter '{name}': cv {cv} must be >= 0")
    if row["fitted"] not in ("yes", "no"):
        raise ParameterError(f"parameter '{name}': fitted must be 'yes' or 'no'")
    return Parameter(
        name=name,
        species=row["species"],
        value=value,
        unit=row["unit"],
        internal_unit=internal,
        lower=lower,
        upper=upper,
        cv=cv,
        fitted=row["fitted"] == "yes",
        description=row["description"],
        source=row["source"],
        table_value=float(row["value"]),
    )


class ParameterSet:
    """The parameters of one species, in internal units, addressable by name.

    Parameters
    ----------
    params
        Mapping from name to :class:`Parameter`.
    species
        ``"human"`` or ``"rat"``.
    """

    def __init__(self, params: dict[str, Parameter], species: str):
        self.params = dict(sorted(params.items()))
        self.species = species

    def __getitem__(self, name: str) -> float:
        return self.params[name].value

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    @property
    def names(self) -> list[str]:
        """Parameter names in a fixed (sorted) order."""
        return list(self.params)

    def values(self) -> dict[str, float]:
        """Typical values in internal units."""
        return {k: p.value for k, p in self.params.items()}

    def with_values(self, **overrides: float) -> ParameterSet:
        """Return a copy with some typical values replaced (internal units, within bounds)."""
        new = dict(self.params)
        for k, v in overrides.items():
            if k not in new:
                raise ParameterError(f"unknown parameter '{k}'")
            p = new[k]
            if not p.lower <= v <= p.upper:
                raise ParameterError(
                    f"parameter '{k}' = {v} {p.internal_unit}: outside bounds "
                    f"[{p.lower}, {p.upper}]"
                )
            new[k] = replace(p, value=float(v))
        return ParameterSet(new, self.species)

    def table_bounds(self, name: str) -> tuple[float, float]:
        """``(lower, upper)`` of a parameter in the table's own unit (``params[name].unit``)."""
        p = self.params[name]
        scale = ureg.Quantity(1.0, p.internal_unit).to(p.unit).magnitude
        return p.lower * scale, p.upper * scale

    def check_override(self, name: str, value: float) -> str | None:
        """Why ``name = value`` (in the table's unit) cannot override the table, or ``None``.

        The reason is a phrase for a one-line error: an unknown name (with the
        closest names), a value that is not a finite number, or one outside the
        parameter's bounds.
        """
        if name not in self.params:
            close = difflib.get_close_matches(name, self.names, n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            return (
                f"is not a parameter of the {self.species} table{hint}; "
                "`neuroadapt params` lists them"
            )
        p = self.params[name]
        lo, hi = self.table_bounds(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not np.isfinite(value):
            return f"must be a number in {p.unit}, within [{lo:g}, {hi:g}]"
        if not lo <= value <= hi:
            return f"must be within its bounds [{lo:g}, {hi:g}] {p.unit}"
        return None

    def with_table_values(self, overrides: Mapping[str, float]) -> ParameterSet:
        """Return a copy with typical values replaced, each given in the table's own unit.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        new = dict(self.params)
        for name, value in overrides.items():
            why = self.check_override(name, value)
            if why is not None:
                raise ParameterError(f"parameter '{name}' = {value!r}: {why}")
            p = new[name]
            internal, _ = _to_internal(float(value), p.unit, name)
            new[name] = replace(
                p, value=min(max(internal, p.lower), p.upper), table_value=float(value)
            )
        return ParameterSet(new, self.species)

    def hash(self) -> str:
        """SHA-256 of names, values and sources: identifies the parameter set in provenance."""
        payload = json.dumps(
            [(k, repr(p.value), p.source) for k, p in self.params.items()], sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def sample(
        self, subjects: np.ndarray, seed: int, variability: float = 1.0
    ) -> dict[str, np.ndarray]:
        """Draw per-subject parameter values.

        Parameters
        ----------
        subjects
            Global subject indices (the draw of subject ``i`` is the same whatever
            chunk it is simulated in).
        seed
            Scenario seed.
        variability
            Scale on every coefficient of variation (0 gives identical subjects).

        Returns
        -------
        dict
            Name to array of shape ``(len(subjects),)`` in internal units.
        """
        subjects = np.asarray(subjects, dtype=np.int64)
        out = {}
        for k, p in self.params.items():
            omega = math.sqrt(math.log1p(p.cv**2)) * variability
            z = standard_normal_stream(seed, subjects, k)
            out[k] = np.clip(p.value * np.exp(omega * z), p.lower, p.upper)
        return out

    def to_rows(self) -> list[dict[str, object]]:
        """Rows for display: table value and unit, internal value and unit, source."""
        return [
            {
                "name": k,
                "value": p.table_value,
                "unit": p.unit,
                "internal": p.value,
                "internal_unit": p.internal_unit,
                "cv": p.cv,
                "fitted": p.fitted,
                "description": p.description,
                "source": p.source,
                "species": p.species,
            }
            for k, p in self.params.items()
        ]


@cache
def _load_cached(species: str) -> ParameterSet:
    rows = [_parse_row(r) for r in read_rows()]
    seen: dict[tuple[str, str], Parameter] = {}
    for p in rows:
        key = (p.name, p.species)
        if key in seen:
            raise ParameterError(f"parameter '{p.name}' ({p.species}) appears twice")
        seen[key] = p
    chosen: dict[str, Parameter] = {}
    for p in rows:
        if p.species == "all" and p.name not in chosen:
            chosen[p.name] = p
    for p in rows:
        if p.species == species:
            chosen[p.name] = p
    names_any = {p.name for p in rows}
    missing = sorted(n for n in names_any if n not in chosen)
    if missing:
        raise ParameterError(f"species '{species}' lacks parameters: {', '.join(missing)}")
    return ParameterSet(chosen, species)


def override_records(species: str, overrides: Mapping[str, float]) -> list[dict]:
    """Overrides as records for provenance: name, value, unit, shipped value, fitted."""
    shipped = _load_cached(species).params
    return [
        {
            "name": name,
            "value": float(value),
            "unit": shipped[name].unit,
            "table_value": shipped[name].table_value,
            "fitted": shipped[name].fitted,
        }
        for name, value in overrides.items()
    ]


#: Environment variable holding process-wide overrides of the table, as JSON
#: ``{"human": {"name": value, ...}, "rat": {...}}`` in the table's units. Set by
#: ``neuroadapt calibrate --set`` so that every check, in this process and in its
#: worker processes, sees the same table; cache keys include it
#: (:func:`neuroadapt.cache.code_key`).
OVERRIDES_ENV = "NEUROADAPT_PARAMETERS"


def environment_overrides() -> dict[str, dict[str, float]]:
    """The overrides in ``$NEUROADAPT_PARAMETERS`` by species (empty when unset)."""
    text = os.environ.get(OVERRIDES_ENV, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
        ok = isinstance(data, dict) and all(
            k in SPECIES and isinstance(v, dict) for k, v in data.items()
        )
    except ValueError:
        ok = False
    if not ok:
        raise ParameterError(
            f"environment variable {OVERRIDES_ENV} = '{text}': must be JSON such as "
            '{"human": {"ac_gain": 0.5}}'
        )
    return {k: {n: float(x) for n, x in v.items()} for k, v in data.items()}


@cache
def _with_overrides(species: str, text: str) -> ParameterSet:
    return _load_cached(species).with_table_values(environment_overrides().get(species, {}))


def load_parameters(species: str = "human") -> ParameterSet:
    """Load the parameter set of a species from the shipped table.

    Overrides in ``$NEUROADAPT_PARAMETERS`` (:data:`OVERRIDES_ENV`) are applied.

    Parameters
    ----------
    species
        ``"human"`` or ``"rat"``.
    """
    if species not in SPECIES:
        raise ParameterError(f"species '{species}' not in {', '.join(SPECIES)}")
    text = os.environ.get(OVERRIDES_ENV, "").strip()
    if text and environment_overrides().get(species):
        return _with_overrides(species, text)
    return _load_cached(species)
