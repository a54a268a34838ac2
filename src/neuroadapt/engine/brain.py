"""The slow clock: brain-scale modules advanced day by day from the fast layer's daily exposure.

The pharmacology kernel (``engine.kernel``) records, per subject and day,
integrals and extremes of the fast layer: mean and peak MOR activation, mean
and peak withdrawal, minutes of hypoxia, overdose episodes, survival. Scales
that move over weeks to years (dopamine, glutamate, inflammation, affect,
structure, white matter, cognition) are driven by those daily exposures
(DESIGN.md, "slow states step with a stable scheme on a coarser clock,
driven by exposure integrals of the fast layer").

A module is a plain Python module in ``neuroadapt.model`` with:

``NAME``
    Short name (used as a prefix in results).
``STATES``
    ``{state: (unit, initial)}``; ``initial`` is a number or a parameter name.
``REGIONS``
    Optional tuple of region names; states then have shape ``(subjects, regions)``.
``INPUTS``
    Names the module reads: daily drivers (``DRIVERS``), covariates
    (``COVARIATES``) or outputs of modules listed before it.
``OUTPUTS``
    ``{output: (unit, description)}``.
``step(state, inputs, p, dt_d) -> dict``
    New state after ``dt_d`` days (vectorised numpy; exact or
    unconditionally stable; no solving here beyond closed forms).
``observe(state, inputs, p) -> dict``
    Outputs from the state and the inputs of the same day.

``p`` maps parameter names to per-subject arrays in internal units (rates
are per hour in the table; modules convert to their day clock with
``neuroadapt.model.clock.HOURS_PER_DAY``). The integrator below owns the loop over days; modules
never loop over subjects.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np
import xarray as xr

from neuroadapt.model import system
from neuroadapt.model.clock import HOURS_PER_DAY

__all__ = [
    "BRAIN_MODULES",
    "COVARIATES",
    "BrainClock",
    "brain_params",
    "DRIVERS",
    "HOURS_PER_DAY",
    "ModuleSpecError",
    "available_brain_modules",
    "check_modules",
    "integrate",
    "to_dataset",
]

#: Daily drivers taken from the kernel's daily records (declared by the fast modules).
DRIVERS: tuple[str, ...] = system.DRIVERS
#: Per-subject covariates (constant over the run, except age, which advances).
COVARIATES: tuple[str, ...] = system.COVARIATES
#: Brain modules in dependency order, by name (the registry ``model.system`` lists them).
BRAIN_MODULES: tuple[str, ...] = system.BRAIN_MODULE_NAMES


def available_brain_modules() -> list[ModuleType]:
    """The brain modules of the registry (``model.system.BRAIN_MODULES``), in dependency order."""
    return list(system.BRAIN_MODULES)


class ModuleSpecError(ValueError):
    """A brain module is missing a required attribute or reads an unknown input."""


def check_modules(modules: Sequence[ModuleType]) -> None:
    """Check that each module is complete and reads only inputs that exist before it."""
    known = set(DRIVERS) | set(COVARIATES)
    for mod in modules:
        for attr in ("NAME", "STATES", "INPUTS", "OUTPUTS", "step", "observe"):
            if not hasattr(mod, attr):
                raise ModuleSpecError(f"brain module {mod.__name__} lacks {attr}")
        missing = [i for i in mod.INPUTS if i not in known]
        if missing:
            raise ModuleSpecError(
                f"brain module {mod.NAME} reads {', '.join(missing)}, which no earlier module "
                f"or driver provides"
            )
        known |= set(mod.OUTPUTS)


def _initial(mod: ModuleType, p: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    regions = getattr(mod, "REGIONS", None)
    shape = (n, len(regions)) if regions else (n,)
    out = {}
    for name, (_unit, init) in mod.STATES.items():
        value = p[init] if isinstance(init, str) else init
        arr = np.asarray(value, dtype=float)
        if regions and arr.ndim == 1 and arr.shape[0] == n:
            arr = arr[:, None]
        out[name] = np.broadcast_to(arr, shape).astype(float).copy()
    return out


def brain_params(params, ids: np.ndarray, seed: int, variability: float) -> dict[str, np.ndarray]:
    """Per-subject parameters for the brain modules, with the keys of their random streams.

    Random brain events (e.g. leukoencephalopathy) draw from per-subject streams
    keyed by ``subject_index`` and ``stream_seed`` (see ``model.white_matter``).
    """
    p = params.sample(ids, seed, variability)
    p["subject_index"] = np.asarray(ids, dtype=np.int64)
    p["stream_seed"] = np.full(len(ids), seed)
    return p


class BrainClock:
    """The brain modules' states for a group of subjects, advanced one day at a time.

    Parameters
    ----------
    modules
        Brain modules in dependency order.
    p
        Per-subject parameter arrays.
    covariates
        Per-subject covariates (``COVARIATES``); ``age_years`` is the age at day 0.
    """

    def __init__(
        self,
        modules: Sequence[ModuleType],
        p: dict[str, np.ndarray],
        covariates: dict[str, np.ndarray],
    ) -> None:
        check_modules(modules)
        self.modules = list(modules)
        self.p = p
        self.covariates = covariates
        n = len(next(iter(covariates.values())))
        self.states = {mod.NAME: _initial(mod, p, n) for mod in self.modules}

    def advance(
        self, drivers: dict[str, np.ndarray], day: float, dt_d: float | None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Step every module by ``dt_d`` days (``None``: observe only) and observe day ``day``.

        Returns every module's states and outputs keyed ``<module>_<name>``,
        and the day's inputs (drivers, covariates and outputs by plain name).
        """
        inputs: dict[str, np.ndarray] = dict(drivers)
        inputs.update(self.covariates)
        inputs["age_years"] = self.covariates["age_years"] + day / 365.25
        out: dict[str, np.ndarray] = {}
        for mod in self.modules:
            st = self.states[mod.NAME]
            if dt_d is not None:
                st = mod.step(st, inputs, self.p, dt_d)
                self.states[mod.NAME] = st
            outs = mod.observe(st, inputs, self.p)
            inputs.update(outs)
            for k, v in st.items():
                out[f"{mod.NAME}_{k}"] = v
            for k, v in outs.items():
                out[f"{mod.NAME}_{k}"] = v
        return out, inputs


def to_dataset(
    modules: Sequence[ModuleType],
    records: dict[str, list[np.ndarray]],
    subjects: np.ndarray,
    time_d: np.ndarray,
    dtype: type = np.float64,
) -> xr.Dataset:
    """Label recorded module states and outputs (lists over time) as a dataset."""
    data = {}
    coords_r: dict[str, list[str]] = {}
    for mod in modules:
        regions = getattr(mod, "REGIONS", None)
        meta = {k: (u, f"{mod.NAME} state {k}") for k, (u, _) in mod.STATES.items()}
        meta.update(mod.OUTPUTS)
        for k, (unit, desc) in meta.items():
            arr = np.stack(records[f"{mod.NAME}_{k}"], axis=1).astype(dtype, copy=False)
            rdim = f"{mod.NAME}_region"
            dims = ("subject", "time", rdim) if arr.ndim == 3 else ("subject", "time")
            data[f"{mod.NAME}_{k}"] = xr.DataArray(
                arr, dims=dims, attrs={"units": unit, "long_name": desc}
            )
        if regions:
            coords_r[f"{mod.NAME}_region"] = list(regions)
    coords = {"subject": subjects, "time": time_d, **coords_r}
    ds = xr.Dataset(data, coords=coords)
    ds["subject"].attrs.update({"units": "1", "long_name": "subject number"})
    for dim in coords_r:
        ds[dim].attrs["long_name"] = f"{dim.removesuffix('_region').replace('_', ' ')} region"
    return ds


def integrate(
    modules: Sequence[ModuleType],
    daily: xr.Dataset,
    p: dict[str, np.ndarray],
    covariates: dict[str, np.ndarray],
    dt_d: float = 1.0,
) -> xr.Dataset:
    """Advance brain modules over the days of a cohort's daily record.

    Parameters
    ----------
    modules
        Brain modules in dependency order.
    daily
        The engine's dataset recorded every 24 h (dims ``subject``, ``time`` in days).
    p
        Per-subject parameter arrays (``ParameterSet.sample``).
    covariates
        Per-subject covariates (``COVARIATES``); ``age_years`` is the age at day 0.
    dt_d
        Step in days (the record spacing).

    Returns
    -------
    xarray.Dataset
        Every state and output of every module, named ``<module>_<name>``, with
        dims ``subject``, ``time`` (and ``region`` for regional modules).
    """
    clock = BrainClock(modules, p, covariates)
    n_t = daily.sizes["time"]
    drivers = {k: np.nan_to_num(daily[k].values.astype(float)) for k in DRIVERS if k in daily}
    records: dict[str, list[np.ndarray]] = {}
    for d in range(n_t):
        out, _ = clock.advance(
            {k: v[:, d] for k, v in drivers.items()},
            float(daily.time.values[d]),
            dt_d if d > 0 else None,
        )
        for k, v in out.items():
            records.setdefault(k, []).append(np.asarray(v, dtype=float))
    return to_dataset(modules, records, daily.subject.values, daily.time.values)
