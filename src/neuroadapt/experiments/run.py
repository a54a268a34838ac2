"""Run a scenario: simulate the cohort, and write results, tables, scenario and provenance.

This is the library call behind ``neuroadapt run``. It writes, into the
output directory:

- ``results.nc``: the cohort dataset (compressed CF NetCDF-4, time as days since a nominal
  origin; units and provenance in attributes), and ``controls.nc`` for matched controls;
- ``tables/*.csv``: tidy tables (cohort summary over time, per-subject outcomes,
  overdose episodes with minutes of hypoxia for later brain-injury modelling; for life
  courses also clinical outcomes, survival, mortality and deaths by cause and year);
- ``scenario.toml``: the resolved scenario (with any command-line overrides);
- ``provenance.json``: version, seed, parameter hash, scenario hash, library versions.

Every file is written atomically. The simulation checkpoints finished chunks
under ``.checkpoint/`` and a rerun of the same scenario resumes from them.

``run_scenario(..., background=True)`` returns as soon as the tables are
written and leaves the two NetCDF files to a thread (zlib compression releases
the GIL), so that a report can be drawn meanwhile;
:meth:`RunOutputs.wait_for_files` waits for them and re-raises any error. The
checkpoints are removed only once both files are on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neuroadapt.atomic import remove_stale_temporaries, write_text
from neuroadapt.engine.simulate import (
    EngineOptions,
    RescueRule,
    SimulationResult,
    check_living_dataset,
    simulate,
)
from neuroadapt.experiments.cohort import (
    Group,
    available_brain_modules,
    brain_for,
    covariates,
    run_controls,
)
from neuroadapt.io.netcdf import TIME_ORIGIN, write_netcdf
from neuroadapt.parameters import ParameterSet, load_parameters
from neuroadapt.parameters.table import override_records
from neuroadapt.scenarios import Scenario, dump_scenario, loads_scenario

SUMMARY_VARS = (
    "tolerance_shift",
    "activation_peak",
    "effect_peak",
    "withdrawal_peak",
    "withdrawal_mean",
    "spo2_min",
    "hypoxia_minutes",
    "overdoses",
    "alive",
)


@dataclass
class RunOutputs:
    """What a run produced, in memory and on disk."""

    scenario: Scenario
    params: ParameterSet
    result: SimulationResult
    provenance: dict
    out_dir: Path | None
    #: The matched drug-free controls (their dataset is :attr:`controls`).
    control_group: Group | None = None
    subjects: pd.DataFrame | None = None
    clinical: pd.DataFrame | None = None
    survival: pd.DataFrame | None = None
    mortality: pd.DataFrame | None = None
    deaths_by_year: pd.DataFrame | None = None
    #: The NetCDF files still being written (``run_scenario(..., background=True)``).
    pending: Future | None = None
    #: The tables written to ``tables/<name>.csv``.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def users(self) -> xr.Dataset:
        """The simulated subjects, one row each, with units, covariates and traits."""
        return self.result.dataset

    @property
    def controls(self) -> xr.Dataset | None:
        """The matched drug-free controls, if the scenario has them."""
        return self.control_group.result.dataset if self.control_group is not None else None

    @property
    def episodes(self) -> pd.DataFrame:
        """The overdose episodes, one row each."""
        return self.result.episodes

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the run's files into ``folder`` (as ``neuroadapt run`` does; no report).

        Returns the folder. :func:`load_run` reads it back.
        """
        out = check_out_dir(folder)
        _write_outputs(out, self.scenario, self.provenance, self.users, self.controls, self.tables)
        self.out_dir = out
        return out

    def wait_for_files(self) -> None:
        """Wait until results.nc and controls.nc are written; re-raise a failed write."""
        if self.pending is not None:
            self.pending.result()


#: Files a run writes into its output folder (``tables/`` is a folder).
OUTPUT_FILES = ("results.nc", "controls.nc", "scenario.toml", "provenance.json", "report.html")


class OutputDirError(ValueError):
    """The output folder cannot be created or written; the message is one line."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"output folder '{path}': {reason}")
        self.path, self.reason = path, reason


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output folder and check that a run can write there, before any work.

    Also removes the temporaries that a killed earlier run of this folder left
    (only ours, of processes that no longer run: ``atomic.remove_stale_temporaries``).

    Raises
    ------
    OutputDirError
        If the folder cannot be created or written, or an output name is taken by a folder.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        if isinstance(exc, FileExistsError) or (out.exists() and not out.is_dir()):
            reason = "exists and is not a folder"
        else:
            reason = f"cannot be created or written ({exc.strerror or exc})"
        raise OutputDirError(out, reason) from None
    in_way = [
        f"'{n}' is a folder, where that output file goes"
        for n in OUTPUT_FILES
        if (out / n).is_dir()
    ]
    if (out / "tables").exists() and not (out / "tables").is_dir():
        in_way.append("'tables' is a file, where the tables folder goes")
    if in_way:
        raise OutputDirError(out, in_way[0])
    for folder in (out, out / "tables", out / ".checkpoint"):
        remove_stale_temporaries(folder)
    return out


def resolve(
    scenario: Scenario,
    subjects: int | None = None,
    seed: int | None = None,
    parameters: dict[str, float] | None = None,
) -> Scenario:
    """Apply command-line overrides to a scenario (validated like the file).

    With matched controls, ``subjects`` sets both groups (1:1 matching).
    ``parameters`` (``--set NAME=VALUE``, table units) are merged into the
    scenario's ``[parameters]``, replacing a value of the same name.
    """
    update: dict = {}
    if seed is not None:
        update["seed"] = seed
    if parameters:
        update["parameters"] = {**scenario.parameters, **parameters}
    if subjects is not None:
        update["cohort"] = scenario.sized_cohort(subjects)
    return scenario.replaced(f"{scenario.name} (with command-line options)", **update)


def scenario_params(scenario: Scenario) -> ParameterSet:
    """The species' parameter set, with the scenario's body weight and ``[parameters]``."""
    params = load_parameters(scenario.species)
    if scenario.cohort.body_weight_kg is not None:
        params = params.with_values(body_weight=scenario.cohort.body_weight_kg)
    if scenario.parameters:
        params = params.with_table_values(scenario.parameters)
    return params


def scenario_rescue(scenario: Scenario) -> RescueRule | None:
    """The scenario's naloxone rescue rule, if any."""
    return None if scenario.rescue is None else RescueRule.from_scenario(scenario.rescue)


def overrides(scenario: Scenario) -> list[dict]:
    """The scenario's ``[parameters]``: each with its unit and the shipped table's value."""
    return override_records(scenario.species, scenario.parameters)


def provenance(scenario: Scenario, params: ParameterSet) -> dict:
    """Everything needed to reproduce a run."""
    text = dump_scenario(scenario)
    libs = ("numpy", "scipy", "numba", "xarray", "pandas", "pydantic", "pint")
    return {
        "neuroadapt_version": version("neuroadapt"),
        "scenario": scenario.name,
        "scenario_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "seed": scenario.seed,
        "subjects": scenario.cohort.subjects,
        "species": scenario.species,
        "parameter_hash": params.hash(),
        "parameter_overrides": overrides(scenario),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {lib: version(lib) for lib in libs},
    }


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """Median and 5/95 % quantiles over subjects of the key variables, per recorded time."""
    rows = {"time_d": ds.time.values}
    for v in SUMMARY_VARS:
        if v not in ds:
            continue
        x = ds[v].values.astype(float)
        if v == "alive":
            rows["alive_fraction"] = np.nanmean(x, axis=0)
            continue
        with np.errstate(all="ignore"):
            q = (
                np.nanquantile(x, [0.05, 0.5, 0.95], axis=0)
                if np.isfinite(x).any()
                else np.full((3, x.shape[1]), np.nan)
            )
        rows[f"{v}_p05"], rows[f"{v}_median"], rows[f"{v}_p95"] = q
    return pd.DataFrame(rows)


def subject_table(ds: xr.Dataset, episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per subject: outcome, tolerance reached, overdoses, hypoxia minutes."""
    n_od = episodes.groupby("subject").size() if len(episodes) else pd.Series(dtype=int)
    hyp = ds.hypoxia_minutes.sum("time").values
    return pd.DataFrame(
        {
            "subject": ds.subject.values,
            "died": ds.death_time.notnull().values,
            "death_time_d": ds.death_time.values,
            "max_tolerance_shift": ds.tolerance_shift.max("time").values,
            "max_withdrawal": ds.withdrawal_peak.max("time").values,
            "overdose_episodes": [int(n_od.get(s, 0)) for s in ds.subject.values],
            "hypoxia_minutes": hyp,
        }
    )


class SavedRunError(ValueError):
    """A folder does not hold a saved run; the message is one line."""


#: Tables of a life-course run that :func:`load_run` reads back (``tables/<name>.csv``).
_LIFECOURSE_TABLES = ("subjects", "clinical_outcomes", "survival", "mortality", "deaths_by_year")


def load_run(folder: str | os.PathLike[str]) -> RunOutputs:
    """Read a run back from the folder ``neuroadapt run`` wrote, without simulating.

    The datasets come from ``results.nc`` and ``controls.nc`` with the time
    axis in days (CF decoding of the time left off, as the run wrote it), the
    scenario from the resolved ``scenario.toml``, the provenance and the tables
    from their files.

    Raises
    ------
    SavedRunError
        If a file the run always writes is missing or cannot be read.
    """
    d = Path(folder)
    for name in ("results.nc", "scenario.toml", "provenance.json"):
        if not (d / name).is_file():
            raise SavedRunError(f"'{d}' holds no {name}: not a folder written by 'neuroadapt run'")
    try:
        sc = loads_scenario((d / "scenario.toml").read_text(encoding="utf-8"), str(d))
        users = xr.load_dataset(d / "results.nc", decode_times=False)
        controls = (
            xr.load_dataset(d / "controls.nc", decode_times=False)
            if (d / "controls.nc").is_file()
            else None
        )
        prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SavedRunError(
            f"'{d}': cannot be read as a saved run ({exc})".splitlines()[0]
        ) from None

    def table(name: str) -> pd.DataFrame | None:
        path = d / "tables" / f"{name}.csv"
        return pd.read_csv(path) if path.is_file() else None

    episodes = table("overdose_episodes")
    life = {k: table(k) if sc.behaviour is not None else None for k in _LIFECOURSE_TABLES}
    empty = pd.DataFrame()
    return RunOutputs(
        scenario=sc,
        params=scenario_params(sc),
        result=SimulationResult(
            dataset=users, episodes=episodes if episodes is not None else empty, final_state={}
        ),
        provenance=prov,
        out_dir=d,
        control_group=(
            Group("controls", SimulationResult(controls, empty, {}), None)
            if controls is not None
            else None
        ),
        subjects=life["subjects"],
        clinical=life["clinical_outcomes"],
        survival=life["survival"],
        mortality=life["mortality"],
        deaths_by_year=life["deaths_by_year"],
        tables={p.stem: pd.read_csv(p) for p in sorted((d / "tables").glob("*.csv"))},
    )


def start_workers(scenario: Scenario) -> None:
    """Start, in the background, the worker processes ``run_scenario`` will use (if any).

    A caller with other work to do first (e.g. reading its caches) saves the
    workers' start-up time; the numbers do not depend on it.
    """
    if scenario.behaviour is not None:
        from neuroadapt.experiments.lifecourse import start_lifecourse_workers

        start_lifecourse_workers(scenario)


def run_scenario(
    scenario: Scenario,
    out_dir: str | Path | None,
    progress: Callable[[int, int], None] | None = None,
    options: EngineOptions | None = None,
    background: bool = False,
) -> RunOutputs:
    """Simulate a scenario's cohort and write its result files (``out_dir=None``: none).

    Parameters
    ----------
    scenario
        The resolved scenario (see :func:`resolve`).
    out_dir
        Output directory (created), or ``None`` to keep the run in memory only
        (no checkpoints either; :meth:`RunOutputs.save` writes it later).
    progress
        Called with (subjects done, total) after each chunk.
    options
        Engine options; by default records every ``outputs.record_every``.
    background
        Return before results.nc and controls.nc are written (they are written
        in a thread; call :meth:`RunOutputs.wait_for_files` before relying on them).
    """
    out = check_out_dir(out_dir) if out_dir is not None else None
    params = scenario_params(scenario)
    if scenario.behaviour is not None:
        return _run_lifecourse(scenario, params, out, progress, background)
    opts = options or EngineOptions(record_every_h=scenario.outputs.record_every_h())
    ckpt = out / ".checkpoint" if out is not None else None
    result = simulate(
        params,
        scenario.all_events(),
        scenario.total_duration_h(),
        scenario.cohort.subjects,
        seed=scenario.seed,
        variability=scenario.cohort.variability,
        rescue=scenario_rescue(scenario),
        options=opts,
        checkpoint_dir=ckpt,
        progress=progress,
    )
    prov = provenance(scenario, params)
    ds = result.dataset
    controls = None
    brain = None
    if abs(opts.record_every_h - 24.0) < 1e-9:
        # brain scales on the daily clock, for users and matched controls
        modules = available_brain_modules()
        ids = np.arange(scenario.cohort.subjects)
        brain = brain_for(
            params,
            result,
            ids,
            covariates(scenario, ids),
            scenario.seed,
            scenario.cohort.variability,
            modules,
        )
        controls = run_controls(scenario, params, opts, modules)
        if brain is not None:
            ds = xr.merge([ds, brain], compat="override", combine_attrs="override")
            result.dataset = ds
    ds.attrs["title"] = f"neuroadapt cohort simulation: {scenario.name}"
    check_living_dataset(ds, "users'")  # the brain scales too
    cds = None
    if controls is not None:
        cds = controls.result.dataset
        if controls.brain is not None:
            cds = xr.merge([cds, controls.brain], compat="override", combine_attrs="override")
        check_living_dataset(cds, "controls'")
        cds.attrs["title"] = f"matched drug-free controls: {scenario.name}"
        controls.result.dataset = cds
    tables = {
        "cohort_summary": summary_table(ds),
        "subjects": subject_table(ds, result.episodes),
        "overdose_episodes": result.episodes,
    }
    pending = (
        _write_outputs(out, scenario, prov, ds, cds, tables, background)
        if out is not None
        else None
    )
    return RunOutputs(
        scenario=scenario,
        params=params,
        result=result,
        provenance=prov,
        out_dir=out,
        control_group=controls,
        pending=pending,
        tables=tables,
    )


def _write_outputs(
    out: Path,
    scenario: Scenario,
    prov: dict,
    users: xr.Dataset,
    controls: xr.Dataset | None,
    tables: dict[str, pd.DataFrame],
    background: bool = False,
) -> Future | None:
    """Write a run's files atomically and remove its checkpoints.

    results.nc (and controls.nc) carry the resolved scenario and the provenance
    in their attributes (:func:`neuroadapt.io.netcdf.write_netcdf`: CF metadata,
    compression); tables go to ``tables/<name>.csv``. With ``background`` the
    NetCDF files (and then the removal of the checkpoints) are left to a thread
    whose future is returned.
    """
    for ds in (users, controls):
        if ds is not None:
            ds.attrs.update(
                {"scenario_toml": dump_scenario(scenario), "provenance": json.dumps(prov)}
            )
    # shallow copies: the attributes written are those of now, whatever a reader does next
    files = [
        (ds.copy(deep=False), name)
        for ds, name in ((users, "results.nc"), (controls, "controls.nc"))
        if ds is not None
    ]

    def write_files() -> None:
        for ds, name in files:
            write_netcdf(ds, out / name, time_origin=TIME_ORIGIN)
        shutil.rmtree(out / ".checkpoint", ignore_errors=True)

    pending = None
    if background:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neuroadapt-netcdf")
        pending = pool.submit(write_files)
        pool.shutdown(wait=False)  # the thread ends with its one task
    else:
        write_files()
    (out / "tables").mkdir(exist_ok=True)
    for name, frame in tables.items():
        write_text(out / "tables" / f"{name}.csv", frame.to_csv(index=False))
    write_text(out / "scenario.toml", dump_scenario(scenario))
    write_text(out / "provenance.json", json.dumps(prov, indent=2))
    return pending


def _run_lifecourse(
    scenario: Scenario, params: ParameterSet, out: Path | None, progress, background: bool = False
) -> RunOutputs:
    """``run_scenario`` for scenarios whose people decide their own use."""
    from neuroadapt.experiments.lifecourse import (
        clinical_outcomes,
        deaths_by_year,
        life_plan,
        mortality_table,
        run_lifecourse,
        survival_table,
        use_by_year,
    )

    ckpt = out / ".checkpoint" if out is not None else None
    res, users, controls = run_lifecourse(
        scenario, params, scenario_rescue(scenario), checkpoint_dir=ckpt, progress=progress
    )
    prov = provenance(scenario, params)
    plan = life_plan(scenario)
    for ds, title in ((users, "users"), (controls, "matched drug-free controls")):
        if ds is not None:
            ds.attrs["title"] = f"neuroadapt life-course cohort ({title}): {scenario.name}"
            ds.attrs.update({"parameter_hash": params.hash(), "seed": scenario.seed})
    clinical = clinical_outcomes(res.subjects, plan, res.episodes)
    surv = survival_table(res.subjects, plan)
    mortality = mortality_table(res.subjects, plan)
    by_year = deaths_by_year(res.subjects, plan)
    tables = {
        "cohort_summary": summary_table(users),
        "subjects": res.subjects,
        "overdose_episodes": res.episodes,
        "clinical_outcomes": clinical,
        "survival": surv,
        "mortality": mortality,
        "deaths_by_year": by_year,
        "use_by_year": use_by_year(users, res.subjects, res.episodes, plan),
    }
    pending = (
        _write_outputs(out, scenario, prov, users, controls, tables, background)
        if out is not None
        else None
    )
    empty = pd.DataFrame()
    return RunOutputs(
        scenario=scenario,
        params=params,
        result=SimulationResult(dataset=users, episodes=res.episodes, final_state={}),
        provenance=prov,
        out_dir=out,
        control_group=(
            Group("controls", SimulationResult(controls, empty, {}), None)
            if controls is not None
            else None
        ),
        subjects=res.subjects,
        clinical=clinical,
        survival=surv,
        mortality=mortality,
        deaths_by_year=by_year,
        pending=pending,
        tables=tables,
    )
