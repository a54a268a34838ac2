"""Small virtual experiments behind the report's figures.

Each panel is a labelled :class:`xarray.Dataset` (units and ``long_name`` on
every variable, a ``description`` attribute saying exactly what was
simulated). The report only draws them; it never simulates.

All panels use one typical subject (``variability = 0``) except the
overdose-risk panel, which needs a cohort. "Chronic" and "tolerant" mean the
history :data:`HISTORY`: 20 mg heroin IV every 8 h for 30 days (90 doses, the
last at 712 h). Doses given "on day 30" are the last dose of that history;
tolerant test doses are given 8 h after it, i.e. in place of the next dose.

Examples
--------
>>> from neuroadapt.parameters import load_parameters
>>> panels = compute_panels(load_parameters("human"), overdose_subjects=20)  # doctest: +SKIP
>>> sorted(panels)  # doctest: +SKIP
['camp_acute_chronic', 'occupancy', 'overdose_vs_dose', 'pk_by_route', 'respiration',
 'tolerance', 'withdrawal']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from neuroadapt.atomic import write_with
from neuroadapt.cache import cache_dir, cached, code_key
from neuroadapt.engine.simulate import EngineOptions, simulate, trajectory
from neuroadapt.model import receptor
from neuroadapt.model.dose import Dose
from neuroadapt.model.pk import LIGANDS
from neuroadapt.parameters import ParameterSet

__all__ = [
    "HISTORY",
    "PANEL_NAMES",
    "History",
    "cached_panels",
    "compute_panels",
    "wilson_interval",
]


@dataclass(frozen=True)
class History:
    """A regular heroin history: ``dose_mg`` by ``route`` every ``interval_h`` for ``days``."""

    dose_mg: float = 20.0
    interval_h: float = 8.0
    days: float = 30.0
    route: str = "iv"

    def doses(self) -> list[Dose]:
        """Return the dose events, the first at time 0."""
        n = int(round(self.days * 24.0 / self.interval_h))
        return [Dose(i * self.interval_h, "heroin", self.route, self.dose_mg) for i in range(n)]

    @property
    def last_dose_h(self) -> float:
        """Time of the last dose (h)."""
        return self.doses()[-1].time_h

    def __str__(self) -> str:
        return (
            f"{self.dose_mg:g} mg heroin {self.route} every {self.interval_h:g} h "
            f"for {self.days:g} days"
        )


#: The chronic history shared by the tolerance, withdrawal, respiration and overdose panels.
HISTORY = History()

PANEL_NAMES: tuple[str, ...] = (
    "pk_by_route",
    "occupancy",
    "camp_acute_chronic",
    "tolerance",
    "withdrawal",
    "respiration",
    "overdose_vs_dose",
)

PK_ROUTES: tuple[str, ...] = ("iv", "smoked", "intranasal", "im", "oral")
#: Agonists drawn in the equilibrium occupancy panel (the model's ligands less antagonists).
RECEPTOR_LIGANDS: tuple[str, ...] = tuple(
    lig for lig in LIGANDS if lig not in ("naloxone", "naltrexone")
)
#: Engine variable -> (panel variable, units, long name) of the PK panel.
PK_VARS: dict[str, tuple[str, str, str]] = {
    "conc_heroin": ("blood_heroin", "nM", "blood heroin concentration"),
    "conc_6mam": ("blood_6mam", "nM", "blood 6-MAM concentration"),
    "conc_morphine": ("blood_morphine", "nM", "blood morphine concentration"),
    "pk_6mam_brain": (
        "brain_6mam",
        "nM",
        "brain effect-site 6-MAM (plasma-equivalent, includes brain partition)",
    ),
    "pk_morphine_brain": ("brain_morphine", "nM", "brain effect-site morphine (plasma-equivalent)"),
}


def _attrs(ds: xr.Dataset, engine_ds: xr.Dataset) -> dict:
    keep = ("species", "parameter_hash", "seed", "variability")
    return {k: engine_ds.attrs[k] for k in keep if k in engine_ds.attrs} | dict(ds.attrs)


def _meta(
    var: xr.DataArray, units: str | None = None, long_name: str | None = None
) -> xr.DataArray:
    var = var.copy()
    var.attrs = {
        "units": units or var.attrs.get("units", "1"),
        "long_name": long_name or var.attrs.get("long_name", var.name or ""),
    }
    return var


def _typical(
    params: ParameterSet, doses: Sequence[Dose], times_h: np.ndarray, seed: int
) -> xr.Dataset:
    """Dense trajectory of the typical subject at ``times_h``, time coordinate in hours."""
    times_h = np.asarray(times_h, dtype=float)
    res = trajectory(params, doses, times_h, subjects=1, seed=seed, variability=0.0)
    ds = res.dataset.isel(subject=0).sel(time=times_h / 24.0, method="nearest")
    ds = ds.assign_coords(time=times_h)
    ds.attrs = dict(res.dataset.attrs)
    return ds


def _alive(ds: xr.Dataset, times_h: np.ndarray) -> np.ndarray:
    death_h = float(ds["death_time"]) * 24.0
    return np.isnan(death_h) | (np.asarray(times_h) < death_h)


def _stack(parts: list[xr.Dataset], dim: str, labels: Sequence[str]) -> xr.Dataset:
    out = xr.concat(parts, dim=dim, join="exact", combine_attrs="drop_conflicts")
    return out.assign_coords({dim: list(labels)})


# ----------------------------------------------------------------------- panels
def pk_and_occupancy(
    params: ParameterSet, seed: int = 0, dose_mg: float = 20.0
) -> tuple[xr.Dataset, xr.Dataset]:
    """One heroin dose by each route: blood and brain concentrations, occupancy, activation."""
    t_min = np.arange(0, 361, 1.0)
    pk_parts, occ_parts = [], []
    for route in PK_ROUTES:
        ds = _typical(params, [Dose(0.0, "heroin", route, dose_mg)], t_min / 60.0, seed)
        pk = xr.Dataset()
        for src, (name, unit, long) in PK_VARS.items():
            # a species the route does not deliver (heroin after oral dosing) is absent: zero;
            # round-off of the modal PK solution (|x| ~ 1e-13 nM) is clipped to zero
            values = np.maximum(ds[src].values, 0.0) if src in ds else np.zeros(t_min.size)
            pk[name] = xr.DataArray(values, dims="time", attrs={"units": unit, "long_name": long})
        pk["alive"] = xr.DataArray(
            _alive(ds, t_min / 60.0),
            dims="time",
            attrs={"units": "1", "long_name": "subject alive"},
        )
        pk.attrs = _attrs(pk, ds)
        pk_parts.append(pk.assign_coords(time=t_min))
        occ = xr.Dataset(
            {
                "agonist_occupancy": _meta(ds["agonist_occupancy"]),
                "activation": _meta(ds["activation"]),
            }
        ).assign_coords(time=t_min)
        occ_parts.append(occ)
    pk = _stack(pk_parts, "route", PK_ROUTES)
    pk["time"].attrs = {"units": "min", "long_name": "time after the dose"}
    pk.attrs["description"] = (
        f"One {dose_mg:g} mg heroin dose given at time 0 by each route "
        f"({', '.join(PK_ROUTES)}) to the typical human subject (no inter-individual "
        "variability, drug-naive); concentrations every minute for 6 h. Brain values are "
        "effect-site concentrations in plasma-equivalent nM."
    )
    occ = _stack(occ_parts, "route", PK_ROUTES)
    occ["time"].attrs = dict(pk["time"].attrs)
    curves = occupancy_curves(params)
    occ = xr.merge([occ, curves], combine_attrs="override")
    occ.attrs = {k: v for k, v in pk.attrs.items() if k != "description"}
    occ.attrs["description"] = (
        f"Agonist occupancy (CAR, read by respiration) and MOR activation A (read by cAMP "
        f"signalling) of the typical naive subject after one {dose_mg:g} mg heroin dose by "
        "each route; and, from the receptor module's equations, equilibrium occupancy and "
        "activation of each ligand alone against its effect-site concentration."
    )
    return pk, occ


def occupancy_curves(params: ParameterSet) -> xr.Dataset:
    """Occupancy and activation of each agonist alone vs effect-site concentration.

    Uses the receptor module's functions with typical ``K_d`` and efficacy
    ``tau`` of each ligand (no simulation).
    """
    conc = np.geomspace(0.1, 1e5, 121)
    kd_m = params["kd_morphine"]
    occ, act, kds = [], [], []
    for lig in RECEPTOR_LIGANDS:
        kd = kd_m * (1.0 if lig == "morphine" else params[f"affinity_ratio_{lig}"])
        tau = params[f"efficacy_{lig}"]
        odds = receptor.occupancy_odds(conc, kd)
        occ.append(receptor.total_occupancy(odds))
        act.append(receptor.activation(receptor.stimulus(tau * odds, odds)))
        kds.append(kd)
    coords = {"ligand": list(RECEPTOR_LIGANDS), "concentration": conc}
    ds = xr.Dataset(
        {
            "occupancy_curve": (
                ("ligand", "concentration"),
                np.array(occ),
                {"units": "1", "long_name": "fraction of MOR occupied"},
            ),
            "activation_curve": (
                ("ligand", "concentration"),
                np.array(act),
                {"units": "1", "long_name": "MOR activation A"},
            ),
            "kd": ("ligand", np.array(kds), {"units": "nM", "long_name": "dissociation constant"}),
        },
        coords=coords,
    )
    ds["concentration"].attrs = {"units": "nM", "long_name": "effect-site concentration"}
    return ds


def camp_acute_chronic(
    params: ParameterSet, seed: int = 0, history: History = HISTORY
) -> xr.Dataset:
    """cAMP, opioid effect and withdrawal around one dose, naive vs on day 30 of the history."""
    rel_min = np.arange(-60, 421, 1.0)
    acute = _typical(
        params, [Dose(1.0, "heroin", history.route, history.dose_mg)], 1.0 + rel_min / 60.0, seed
    )
    t_dose = history.last_dose_h
    chronic = _typical(params, history.doses(), t_dose + rel_min / 60.0, seed)
    names = ("camp", "opioid_effect", "withdrawal", "activation", "tolerance_shift")
    parts = [
        xr.Dataset({v: _meta(d[v]) for v in names}).assign_coords(time=rel_min)
        for d in (acute, chronic)
    ]
    ds = _stack(parts, "exposure", ["acute", "chronic"])
    ds["time"].attrs = {"units": "min", "long_name": "time relative to the dose"}
    ds.attrs = _attrs(ds, acute)
    ds.attrs["description"] = (
        f"Typical subject. Acute: one {history.dose_mg:g} mg heroin {history.route} dose to a "
        f"drug-naive subject. Chronic: the last dose of {history} (day 30), preceded 8 h "
        "earlier by the previous dose. Minute resolution from 1 h before to 7 h after the dose."
    )
    return ds


def tolerance(
    params: ParameterSet, seed: int = 0, history: History = HISTORY, abstinence_days: float = 30.0
) -> xr.Dataset:
    """Daily tolerance (1 + U) and its components over the history and the abstinence after it."""
    days = history.days + abstinence_days
    res = simulate(
        params,
        history.doses(),
        days * 24.0,
        1,
        seed,
        0.0,
        options=EngineOptions(record_every_h=24.0),
    )
    src = res.dataset.isel(subject=0)
    names = ("tolerance_shift", "u_fast", "u_slow", "effect_peak", "withdrawal_peak", "spo2_min")
    ds = xr.Dataset({v: _meta(src[v]) for v in names})
    ds["time"].attrs = {"units": "d", "long_name": "time since the first dose"}
    ds.attrs = _attrs(ds, src) | {"stop_day": history.days}
    ds.attrs["description"] = (
        f"Typical subject: {history}, then {abstinence_days:g} days without use; recorded "
        "daily (state at the start of each day, peaks over the preceding day)."
    )
    return ds


def withdrawal(
    params: ParameterSet,
    seed: int = 0,
    history: History = HISTORY,
    naloxone_mg: float = 0.4,
    naloxone_after_h: float = 4.0,
) -> xr.Dataset:
    """Withdrawal after an abrupt stop and after naloxone given after the last dose."""
    rel_h = np.concatenate([np.arange(-60, 720, 1.0) / 60.0, np.arange(12.0, 169.0, 1.0)])
    t_last = history.last_dose_h
    stop = _typical(params, history.doses(), t_last + rel_h, seed)
    nlx = Dose(t_last + naloxone_after_h, "naloxone", "im", naloxone_mg)
    precip = _typical(params, [*history.doses(), nlx], t_last + rel_h, seed)
    names = ("withdrawal", "camp", "activation", "tolerance_shift")
    parts = [
        xr.Dataset({v: _meta(d[v]) for v in names}).assign_coords(time=rel_h)
        for d in (stop, precip)
    ]
    ds = _stack(parts, "condition", ["abrupt stop", "naloxone"])
    ds["time"].attrs = {"units": "h", "long_name": "time after the last heroin dose"}
    ds.attrs = _attrs(ds, stop) | {"naloxone_time_h": naloxone_after_h}
    ds.attrs["description"] = (
        f"Typical subject after {history} (last dose on day 30). Abrupt stop: no further "
        f"doses. Naloxone: the same history and {naloxone_mg:g} mg naloxone IM "
        f"{naloxone_after_h:g} h after the last heroin dose (precipitated withdrawal). "
        "Minute resolution for 12 h, hourly to 7 days."
    )
    return ds


RESPIRATION_CONDITIONS: tuple[tuple[str, bool, float], ...] = (
    ("naive 5 mg", False, 5.0),
    ("naive 20 mg", False, 20.0),
    ("tolerant 20 mg", True, 20.0),
    ("tolerant 60 mg", True, 60.0),
)


def respiration(params: ParameterSet, seed: int = 0, history: History = HISTORY) -> xr.Dataset:
    """Ventilation, PaO2 and SpO2 for 4 h after an IV dose, naive vs tolerant."""
    t_min = np.arange(0, 241, 1.0)
    t_test = history.last_dose_h + history.interval_h
    parts = []
    for _, tolerant, mg in RESPIRATION_CONDITIONS:
        start = t_test if tolerant else 0.0
        doses = [*(history.doses() if tolerant else []), Dose(start, "heroin", "iv", mg)]
        d = _typical(params, doses, start + t_min / 60.0, seed)
        part = xr.Dataset(
            {v: _meta(d[v]) for v in ("ventilation", "pao2", "spo2", "agonist_occupancy")}
        )
        part["alive"] = xr.DataArray(
            _alive(d, start + t_min / 60.0),
            dims="time",
            attrs={"units": "1", "long_name": "subject alive"},
        )
        parts.append(part.assign_coords(time=t_min))
    ds = _stack(parts, "condition", [c[0] for c in RESPIRATION_CONDITIONS])
    ds = ds.assign_coords(
        dose_mg=("condition", [c[2] for c in RESPIRATION_CONDITIONS]),
        tolerant=("condition", [c[1] for c in RESPIRATION_CONDITIONS]),
    )
    ds["time"].attrs = {"units": "min", "long_name": "time after the dose"}
    ds.attrs = _attrs(ds, d)
    ds.attrs["description"] = (
        "Typical subject, one IV heroin dose. Naive: no prior use. Tolerant: the dose is "
        f"given 8 h after the last dose of {history}. Minute resolution for 4 h."
    )
    return ds


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n`` (95% by default)."""
    k = np.asarray(k, dtype=float)
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    p = k / n
    den = 1.0 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return np.clip(np.minimum(centre - half, p), 0, 1), np.clip(np.maximum(centre + half, p), 0, 1)


def overdose_vs_dose(
    params: ParameterSet,
    seed: int = 0,
    subjects: int = 200,
    doses_mg: Sequence[float] | None = None,
    history: History = HISTORY,
    abstinence_days: float = 14.0,
    follow_up_h: float = 24.0,
) -> xr.Dataset:
    """Probability of fatal and non-fatal overdose after one IV test dose, by history.

    Every history x dose level is one cohort simulation (history and test dose as
    one schedule; the same subjects and seed throughout, so the comparisons are
    paired). Risks are among subjects alive at the test dose.
    """
    doses_mg = np.geomspace(2.5, 200.0, 10) if doses_mg is None else np.asarray(doses_mg, float)
    t_tol = history.last_dose_h + history.interval_h
    t_abs = history.last_dose_h + abstinence_days * 24.0
    histories = (
        ("naive", [], 0.0),
        ("tolerant", history.doses(), t_tol),
        ("abstinent", history.doses(), t_abs),
    )
    shape = (len(histories), len(doses_mg))
    n_risk, n_fatal, n_nonfatal = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    ids = np.arange(subjects)
    attrs: dict = {}
    for i, (_, past, t_test) in enumerate(histories):
        for j, mg in enumerate(doses_mg):
            sched = [*past, Dose(t_test, "heroin", "iv", float(mg))]
            opts = EngineOptions(record_every_h=follow_up_h, extra_record_times_h=(t_test,))
            res = simulate(params, sched, t_test + follow_up_h, subjects, seed, 1.0, options=opts)
            attrs = res.dataset.attrs
            death_h = res.dataset["death_time"].values * 24.0
            at_risk = ~(death_h < t_test)
            fatal = at_risk & (death_h >= t_test)
            ep = res.episodes
            after = ep[(ep["start_h"] >= t_test) & (ep["outcome"] == "survived")]
            nonfatal = at_risk & ~fatal & np.isin(ids, after["subject"].to_numpy())
            n_risk[i, j], n_fatal[i, j] = at_risk.sum(), fatal.sum()
            n_nonfatal[i, j] = nonfatal.sum()
    dims = ("history", "dose")
    lo, hi = wilson_interval(n_fatal, n_risk)
    ds = xr.Dataset(
        {
            "p_fatal": (
                dims,
                n_fatal / np.maximum(n_risk, 1),
                {"units": "1", "long_name": "probability of a fatal overdose"},
            ),
            "p_fatal_low": (dims, lo, {"units": "1", "long_name": "95% Wilson lower bound"}),
            "p_fatal_high": (dims, hi, {"units": "1", "long_name": "95% Wilson upper bound"}),
            "p_nonfatal": (
                dims,
                n_nonfatal / np.maximum(n_risk, 1),
                {
                    "units": "1",
                    "long_name": "probability of a non-fatal overdose "
                    "episode (PaO2 below the overdose threshold, survived)",
                },
            ),
            "n_at_risk": (
                dims,
                n_risk,
                {"units": "1", "long_name": "subjects alive at the test dose"},
            ),
            "n_fatal": (dims, n_fatal, {"units": "1", "long_name": "fatal overdoses"}),
            "n_nonfatal": (dims, n_nonfatal, {"units": "1", "long_name": "non-fatal overdoses"}),
        },
        coords={"history": [h[0] for h in histories], "dose": doses_mg},
    )
    ds["dose"].attrs = {"units": "mg", "long_name": "IV heroin test dose"}
    ds.attrs = {k: attrs[k] for k in ("species", "parameter_hash", "seed") if k in attrs}
    ds.attrs.update(subjects=subjects, variability=1.0, follow_up_h=follow_up_h)
    ds.attrs["description"] = (
        f"Cohort of {subjects} subjects (inter-individual variability 1.0, seed {seed}), no "
        f"naloxone rescue. One IV heroin test dose ({doses_mg.min():g}-{doses_mg.max():g} mg, "
        f"{len(doses_mg)} log-spaced levels), outcomes over {follow_up_h:g} h. Naive: no prior "
        f"use. Tolerant: test dose 8 h after the last dose of {history}. Abstinent: the same "
        f"history, then {abstinence_days:g} days without use. Probabilities are among subjects "
        "alive at the test dose (deaths during the history are excluded)."
    )
    return ds


def compute_panels(
    params: ParameterSet, seed: int = 0, overdose_subjects: int = 200
) -> dict[str, xr.Dataset]:
    """Run every report panel's virtual experiment.

    Parameters
    ----------
    params
        Parameter set (the human set for the report).
    seed
        Seed of the subjects' random streams.
    overdose_subjects
        Cohort size of the overdose-risk panel.

    Returns
    -------
    dict of str to xarray.Dataset
        Keyed by :data:`PANEL_NAMES`.
    """
    pk, occ = pk_and_occupancy(params, seed)
    return {
        "pk_by_route": pk,
        "occupancy": occ,
        "camp_acute_chronic": camp_acute_chronic(params, seed),
        "tolerance": tolerance(params, seed),
        "withdrawal": withdrawal(params, seed),
        "respiration": respiration(params, seed),
        "overdose_vs_dose": overdose_vs_dose(params, seed, overdose_subjects),
    }


def cached_panels(
    params: ParameterSet, seed: int = 0, directory: Path | None = None
) -> dict[str, xr.Dataset]:
    """:func:`compute_panels`, reusing the datasets saved for the same code, parameters and seed.

    The key is ``neuroadapt.cache.code_key()`` with the parameter hash and the
    seed; a panel that cannot be read is recomputed, and a cache that cannot be
    written is not an error.
    """
    folder = (directory or cache_dir()) / f"panels-{code_key()}-{params.hash()}-{seed}"

    def load(folder: Path) -> dict[str, xr.Dataset]:
        return {n: xr.load_dataset(folder / f"{n}.nc", engine="h5netcdf") for n in PANEL_NAMES}

    def save(folder: Path, panels: dict[str, xr.Dataset]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, ds in panels.items():
            write_with(
                folder / f"{name}.nc",
                lambda p, ds=ds: ds.to_netcdf(p, engine="h5netcdf"),
                suffix=".nc",
            )

    return cached(folder, load, lambda: compute_panels(params, seed), save)
