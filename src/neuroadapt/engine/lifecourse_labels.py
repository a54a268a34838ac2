"""Labelling of a life course's merged chunks: the dataset, the subject and episode tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.engine.brain import to_dataset
from neuroadapt.engine.lifecourse_records import _AGG
from neuroadapt.engine.results import RECORD_META, cf_units, episodes_table
from neuroadapt.model import mortality as M

_META = {
    "uses": ("1", "doses taken since the previous record"),
    "dose_mg": ("mg", "habitual dose per use at the record time"),
    "mode": ("1", "0 using, 1 abstaining, 2 held abstinent (detoxification), 3 never used"),
    "tolerance_shift": ("1", "fold right-shift of opioid effects (1 + U) at the record time"),
    "alive": ("1", "1 while the subject is alive"),
}


@dataclass
class LifeCourseResult:
    """Recorded trajectories, per-subject outcomes and overdose episodes."""

    dataset: xr.Dataset
    subjects: pd.DataFrame
    episodes: pd.DataFrame


def _traits(
    params, subj, seed, variability, covariates, free, plan
) -> tuple[dict, xr.DataArray | None]:
    """Per-subject covariates ``{name: (values, units, long_name)}`` and drawn parameters.

    The drawn parameters are those that vary between subjects (``cv > 0``),
    redrawn here from the same counter-based streams the simulation used, as one
    ``trait`` variable (subject x parameter) with each parameter's units and long
    name as coordinates; ``None`` when nothing varies.
    """
    cov = {k: np.asarray(v) for k, v in covariates.items()}
    out: dict[str, tuple] = {
        "age_years": (cov["age_years"].astype(float), "year", "age at day 0"),
        "sex": (np.where(cov["female"] > 0.5, "female", "male"), None, "sex"),
        "route": (
            np.where(free, "none", plan.route),
            None,
            "route of heroin use ('none' for drug-free controls)",
        ),
    }
    if variability <= 0:
        return out, None
    draws = params.sample(subj, seed, variability)
    varied = [(k, par) for k, par in params.params.items() if par.cv > 0]
    if not varied:
        return out, None
    # one (subject, parameter) variable: hundreds of 1-D variables cost seconds to write
    trait = xr.DataArray(
        np.stack([np.asarray(draws[k], dtype=float) for k, _ in varied], axis=1),
        dims=("subject", "parameter"),
        coords={
            "parameter": [k for k, _ in varied],
            "parameter_units": ("parameter", [cf_units(p.internal_unit) for _, p in varied]),
            "parameter_long_name": ("parameter", [p.description for _, p in varied]),
        },
        attrs={
            "long_name": "this subject's draw of each parameter that varies between subjects",
            "comment": "units per parameter in parameter_units (the parameter table's "
            "internal units); redrawn from the counter-based streams the simulation used",
        },
    )
    trait["parameter"].attrs["long_name"] = "parameter name (parameter table)"
    trait["parameter_units"].attrs["long_name"] = "units of the parameter's draws (UDUNITS)"
    trait["parameter_long_name"].attrs["long_name"] = "description of the parameter"
    return out, trait


def _label(merged, subj, rec_days, modules, plan, traits, trait) -> LifeCourseResult:
    recs = {k[4:]: merged[k] for k in merged if k.startswith("rec_")}
    brain_recs = {
        k: [recs[k][:, t] for t in range(recs[k].shape[1])]
        for k in recs
        if not k.startswith("fast_")
    }
    ds = to_dataset(modules, brain_recs, subj, rec_days.astype(float), dtype=np.float32)
    # collected first and assigned once: each Dataset.__setitem__ re-aligns every variable
    new: dict[str, xr.DataArray] = {}
    for k in (*_AGG, "mode", "dose_mg", "tolerance_shift", "alive"):
        unit, desc = _META.get(k) or RECORD_META[k]
        new[k] = xr.DataArray(
            recs[f"fast_{k}"], dims=("subject", "time"), attrs={"units": unit, "long_name": desc}
        )
    new["death_time"] = xr.DataArray(
        merged["death_time"],
        dims=("subject",),
        attrs={"units": "d", "long_name": "time of death (any cause; NaN if alive at the end)"},
    )
    cause = np.array(M.CAUSES)[merged["death_cause"].astype(np.int64)]
    new["death_cause"] = xr.DataArray(
        cause,
        dims=("subject",),
        attrs={
            "long_name": "cause of death",
            "comment": f"one of: {', '.join(M.CAUSES)}. background: the general population's "
            "causes (life table); medical: "
            "excess infections, liver and other disease; injury: excess injury, suicide and "
            "violence (model.mortality)",
        },
    )
    new["co_use"] = xr.DataArray(
        merged["co_use"].astype(np.int8),
        dims=("subject",),
        attrs={
            "units": "1",
            "long_name": "regular co-user of benzodiazepines or alcohol (1) or not (0)",
            "comment": "a trait drawn per user (couse_fraction); co-users have a weaker CO2 "
            "chemoreflex (couse_chemoreflex_depression); 0 for drug-free controls",
        },
    )
    for k, (values, unit, desc) in traits.items():
        attrs = {"long_name": desc} if unit is None else {"units": unit, "long_name": desc}
        new[k] = xr.DataArray(values, dims=("subject",), attrs=attrs)
    if trait is not None:
        new["trait"] = trait
    arm = np.array(["continued use", "abstinence", "control"])[merged["arm"].astype(np.int64)]
    new["arm"] = xr.DataArray(
        arm,
        dims=("subject",),
        attrs={"long_name": "arm after the use period"},
    )
    ds = ds.assign(new)
    ds["time"].attrs.update({"units": "d", "long_name": "time since the start of use"})
    ds.attrs.update({"lifecourse_plan": str(asdict(plan))})
    subjects = pd.DataFrame(
        {
            "subject": subj,
            "arm": arm,
            "death_time_d": merged["death_time"],
            "first_lapse_d": merged["first_lapse"],
            "relapse_d": merged["relapse"],
            "abstinent_again_d": merged["abstinent_again"],
            "stops": merged["stops"].astype(np.int64),
            "co_use": merged["co_use"].astype(bool),
            "habitual_dose_mg": merged["final_habit"],
            "death_cause": cause,
            "age_years": traits["age_years"][0],
            "sex": traits["sex"][0],
        }
    )
    episodes = episodes_table(merged["episodes"])
    return LifeCourseResult(dataset=ds, subjects=subjects, episodes=episodes)
