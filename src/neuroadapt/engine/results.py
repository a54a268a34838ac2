"""The engine's outputs: the labelled cohort dataset, the overdose-episode table and their checks.

Also the units spelling (CF/UDUNITS) the datasets use and the error raised when
a living subject's output is not finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.engine import kernel as K

RECORD_META: dict[str, tuple[str, str]] = {
    "u_fast": ("1", "fast AC superactivation component (fraction of naive AC activity)"),
    "u_slow": ("1", "slow AC superactivation component"),
    "activation": ("1", "MOR activation A (fraction of maximal signalling) at the record time"),
    "camp": ("1", "cAMP relative to the naive drug-free level at the record time"),
    "opioid_effect": ("1", "net opioid effect (euphoria/analgesia signal) at the record time"),
    "withdrawal": ("1", "withdrawal index (normalised cAMP overshoot) at the record time"),
    "ventilation": ("1", "alveolar ventilation relative to rest at the record time"),
    "pao2": ("mmHg", "arterial PO2 at the record time"),
    "spo2": ("1", "haemoglobin O2 saturation at the record time"),
    "activation_peak": ("1", "peak MOR activation since the previous record"),
    "effect_peak": ("1", "peak opioid effect since the previous record"),
    "withdrawal_peak": ("1", "peak withdrawal index since the previous record"),
    "withdrawal_mean": ("1", "time-averaged withdrawal index since the previous record"),
    "activation_mean": ("1", "time-averaged MOR activation since the previous record"),
    "camp_min": ("1", "lowest cAMP since the previous record"),
    "camp_max": ("1", "highest cAMP since the previous record"),
    "spo2_min": ("1", "lowest SpO2 since the previous record"),
    "hypoxia_minutes": (
        "min",
        "minutes with PaO2 below the hypoxia threshold since the previous record",
    ),
    "overdoses": ("1", "overdose episodes begun since the previous record"),
    "alive": ("1", "1 while the subject is alive"),
    "agonist_occupancy": (
        "1",
        "fraction of MORs occupied by agonist, weighted by intrinsic activity (CAR)",
    ),
}


#: Columns of the overdose-episode table.
EPISODE_COLUMNS: tuple[str, ...] = (
    "subject",
    "start_h",
    "min_pao2_mmhg",
    "hypoxia_minutes",
    "severe_hypoxia_minutes",
    "outcome",
    "naloxone_given",
)


@dataclass
class SimulationResult:
    """What one simulation produces: a labelled dataset and the overdose episodes."""

    dataset: xr.Dataset
    episodes: pd.DataFrame
    final_state: dict[str, np.ndarray]


class NonFiniteError(FloatingPointError):
    """A living subject's output is NaN or infinite: the run stops rather than write it."""


#: Units as the parameter table and the model write them -> the UDUNITS spelling
#: that CF readers parse (``nM`` is not a UDUNITS unit).
CF_UNITS = {"dimensionless": "1", "nM": "nmol/L", "uM": "umol/L"}


def cf_units(unit: str) -> str:
    """``unit`` in the spelling CF readers parse (unchanged where it already is)."""
    return CF_UNITS.get(unit, unit)


def check_living_finite(
    rec: np.ndarray, subjects: np.ndarray, times_h: np.ndarray, what: str = "kernel"
) -> None:
    """Raise :class:`NonFiniteError` if a kernel record of a living subject is not finite.

    ``rec`` is ``(subjects, times, kernel.N_REC)``; the kernel marks the records
    of the dead with ``alive = 0`` and leaves their read-outs NaN. Every other
    record (alive, or never written) must be finite.
    """
    living = rec[..., K.R_ALIVE] != 0
    bad = living[..., None] & ~np.isfinite(rec)
    if bad.any():
        i, t, k = np.argwhere(bad)[0]
        raise NonFiniteError(
            f"{what} output '{K.RECORD_VARS[k]}' of living subject {int(subjects[i])} is "
            f"{rec[i, t, k]} at {float(times_h[t]):g} h ({int(bad.any(-1).sum())} records "
            "not finite): the model cannot carry these inputs; please report it"
        )


def check_living_dataset(ds: xr.Dataset, what: str = "cohort") -> None:
    """Raise :class:`NonFiniteError` if a value of a living subject in ``ds`` is not finite.

    Checks every float variable over ``subject`` and ``time`` (the brain scales
    included) where the dataset's ``alive`` is 1.
    """
    if "alive" not in ds:
        return
    living = ds["alive"] == 1
    for name, da in ds.data_vars.items():
        if da.dtype.kind != "f" or not {"subject", "time"} <= set(da.dims):
            continue
        bad = ~np.isfinite(da.where(living, 0.0).transpose("subject", "time", ...).values)
        if bad.any():
            i, t = np.argwhere(bad)[0][:2]
            raise NonFiniteError(
                f"{what} output '{name}' of living subject {ds.subject.values[i]} is not "
                f"finite on day {float(ds.time.values[t]):g} ({int(bad.sum())} values): the "
                "model cannot carry these inputs; please report it"
            )


def _to_dataset(merged, subj, rec_t, states, units, options, conc_species=()) -> xr.Dataset:
    coords = {"subject": subj, "time": rec_t / 24.0}
    data = {}
    for k, name in enumerate(K.RECORD_VARS):
        unit, desc = RECORD_META[name]
        data[name] = xr.DataArray(
            merged["rec"][:, :, k],
            dims=("subject", "time"),
            attrs={"units": unit, "long_name": desc},
        )
    data["tolerance_shift"] = xr.DataArray(
        1.0 + merged["rec"][:, :, K.R_UF] + merged["rec"][:, :, K.R_US],
        dims=("subject", "time"),
        attrs={"units": "1", "long_name": "fold right-shift of opioid effects (1 + U)"},
    )
    data["death_time"] = xr.DataArray(
        merged["death"] / 24.0,
        dims=("subject",),
        attrs={"units": "d", "long_name": "time of fatal overdose (NaN if alive)"},
    )
    if options.record_state:
        for m, (st, un) in enumerate(zip(states, units, strict=True)):
            data[f"pk_{st}"] = xr.DataArray(
                merged["x"][:, :, m],
                dims=("subject", "time"),
                attrs={"units": cf_units(un), "long_name": f"PK state {st}"},
            )
        for k, species in enumerate(conc_species):
            data[f"conc_{species}"] = xr.DataArray(
                merged["conc"][:, :, k],
                dims=("subject", "time"),
                attrs={"units": cf_units("nM"), "long_name": f"blood concentration of {species}"},
            )
    ds = xr.Dataset(data, coords=coords)
    ds["time"].attrs.update({"units": "d", "long_name": "time since the start of the regimen"})
    ds["subject"].attrs.update({"units": "1", "long_name": "subject number"})
    return ds


def _episodes_frame(merged, subj) -> pd.DataFrame:
    rows = [
        (int(s), *merged["epi"][i, e])
        for i, s in enumerate(subj)
        for e in range(int(merged["n_epi"][i]))
    ]
    return episodes_table(np.array(rows, dtype=float).reshape(-1, 1 + K.N_EPI))


def episodes_table(flat: np.ndarray) -> pd.DataFrame:
    """Overdose episodes from rows ``(subject, *kernel episode record)`` as a table."""
    return pd.DataFrame(
        {
            "subject": flat[:, 0].astype(np.int64),
            "start_h": flat[:, 1],
            "min_pao2_mmhg": flat[:, 2],
            "hypoxia_minutes": flat[:, 3],
            "severe_hypoxia_minutes": flat[:, 4],
            "outcome": np.where(flat[:, 5] == K.OUTCOME_FATAL, "fatal", "survived"),
            "naloxone_given": flat[:, 6] > 0,
        },
        columns=list(EPISODE_COLUMNS),
    )
