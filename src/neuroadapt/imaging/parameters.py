"""Imaging parameters from the one parameter table, in the units the imaging code uses.

The table converts every value into its internal system at load (hours,
litres, ...). Imaging equations read more naturally in millimetres, years,
millilitres, seconds and minutes, so :func:`imaging_parameters` converts the
``img_*`` rows once, here, and nowhere else.
"""

from __future__ import annotations

from neuroadapt.parameters import load_parameters

#: Factor from the table's internal unit to the unit used by the imaging code.
_FROM_INTERNAL = {
    "h": {"s": 3600.0, "min": 60.0, "year": 1 / 8766.0},
    "1/h": {"1/year": 8766.0, "1/min": 1 / 60.0},
    "L": {"mL": 1000.0},
}
#: Unit the imaging code works in, per internal unit and per table unit.
_WORK_UNIT = {"s": "s", "min": "min", "year": "year", "1/year": "1/year", "1/min": "1/min",
              "mL": "mL"}  # fmt: skip


def imaging_parameters(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The ``img_*`` parameters, without the prefix, in imaging working units.

    Lengths are millimetres (the table's internal length unit), times in
    seconds (fMRI) or minutes (PET), ages in years, volumes in millilitres.

    Parameters
    ----------
    overrides
        Values (in working units, names without ``img_``) that replace table values.

    Examples
    --------
    >>> p = imaging_parameters()
    >>> p["smoothing_fwhm_mm"], p["tiv_ref"], p["bold_tr"], p["pet_scan"]
    (8.0, 1450.0, 2.0, 60.0)
    """
    ps = load_parameters("human")
    out: dict[str, float] = {}
    for name in ps.names:
        if not name.startswith("img_"):
            continue
        p = ps.params[name]
        factor = 1.0
        table_unit = p.unit.strip()
        conv = _FROM_INTERNAL.get(p.internal_unit, {})
        if table_unit in conv:
            factor = conv[table_unit]
        elif conv:
            raise ValueError(f"parameter '{name}': no imaging working unit for '{table_unit}'")
        out[name[4:]] = float(f"{ps[name] * factor:.12g}")
    for key, value in (overrides or {}).items():
        if key not in out:
            raise KeyError(f"unknown imaging parameter '{key}'")
        out[key] = float(value)
    return out
