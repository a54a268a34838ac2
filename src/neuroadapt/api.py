"""The Python face of neuroadapt: scenario in, a run in memory out, saved and read back.

>>> import neuroadapt as na
>>> s = na.load_scenario("default")          # doctest: +SKIP
>>> run = na.simulate(s)                     # doctest: +SKIP
>>> run.result.dataset, run.tables["mortality"]   # doctest: +SKIP
>>> run.save("results/my-study")             # doctest: +SKIP
>>> again = na.load_run("results/my-study")  # doctest: +SKIP
>>> na.write_report(again)                       # doctest: +SKIP
>>> na.calibrate(scales=["pk"])              # doctest: +SKIP

``neuroadapt`` re-exports these names lazily, so that ``import neuroadapt``
(and the command line) stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from neuroadapt.experiments.run import RunOutputs as Run
from neuroadapt.experiments.run import load_run, resolve, run_scenario
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import Scenario, load_scenario, loads_scenario

__all__ = [
    "ReportInputs",
    "Run",
    "Scenario",
    "calibrate",
    "load_run",
    "load_scenario",
    "loads_scenario",
    "parameter_table",
    "report_inputs",
    "simulate",
    "write_report",
]


def simulate(
    scenario: Scenario | str,
    *,
    subjects: int | None = None,
    seed: int | None = None,
    parameters: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Simulate a scenario in memory; nothing is written (``Run.save`` writes it).

    Parameters
    ----------
    scenario
        A :class:`Scenario`, a shipped scenario's name or a TOML file.
    subjects, seed, parameters
        As ``neuroadapt run --subjects``, ``--seed`` and ``--set`` (parameter
        overrides in the table's units, within its bounds).
    progress
        Called with (subjects done, total).

    Raises
    ------
    neuroadapt.scenarios.ScenarioError
        One line naming a bad field or override.
    """
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    sc = resolve(sc, subjects=subjects, seed=seed, parameters=dict(parameters or {}))
    return run_scenario(sc, None, progress=progress)


def parameter_table(species: str = "human") -> pd.DataFrame:
    """The parameter table of a species: value, unit, bounds, variability, fitted, source.

    ``lower`` and ``upper`` are the bounds an override must respect, in the
    table's units (``[parameters]``, ``--set``, ``Scenario.with_parameters``).
    """
    ps = load_parameters(species)
    table = pd.DataFrame(ps.to_rows())
    bounds = [ps.table_bounds(name) for name in table["name"]]
    at = table.columns.get_loc("unit") + 1
    table.insert(at, "lower", [b[0] for b in bounds])
    table.insert(at + 1, "upper", [b[1] for b in bounds])
    return table


#: The steps of :func:`report_inputs`, as its ``stage`` callback is told them.
PANELS_STAGE = "figure experiments"
CALIBRATION_STAGE = "calibration table (cached until the model changes)"


@dataclass(frozen=True)
class ReportInputs:
    """What a report takes besides the run: the figure experiments and the calibration table.

    Both are cached on disk under a key of the code and the parameters
    (``neuroadapt.cache``), so after the first run they are read, not recomputed.
    """

    panels: dict
    calibration: list[dict]


def report_inputs(
    scenario: Scenario,
    *,
    stage: Callable[[str], Callable[[int, int], None] | None] | None = None,
) -> ReportInputs:
    """The figure experiments (for a human scenario's parameters) and the calibration table.

    ``neuroadapt run`` reads them before it simulates: HDF5 reads in this
    process would otherwise wait for the thread that writes ``results.nc``.
    ``stage``, if given, is called with the name of each step ("figure
    experiments", then "calibration table ...") and may return a function
    that is called with (groups done, groups) while the calibration is
    evaluated (only when it is not cached).
    """
    from neuroadapt.evidence.cache import evaluate_cached
    from neuroadapt.experiments.panels import cached_panels
    from neuroadapt.experiments.run import scenario_params

    def started(what: str) -> Callable[[int, int], None] | None:
        return stage(what) if stage is not None else None

    started(PANELS_STAGE)
    panels = (
        cached_panels(scenario_params(scenario), seed=scenario.seed)
        if scenario.species == "human"
        else {}
    )
    evaluated = started(CALIBRATION_STAGE)
    calibration = [r.as_dict() for r in evaluate_cached(progress=evaluated)]
    return ReportInputs(panels, calibration)


def write_report(
    run: Run,
    path: str | os.PathLike[str] | None = None,
    inputs: ReportInputs | None = None,
) -> Path:
    """Write the HTML report of a run (simulated here or read back with :func:`load_run`).

    Parameters
    ----------
    run
        The run.
    path
        The HTML file; by default ``report.html`` in the folder the run was
        saved to.
    inputs
        The figure experiments and calibration table (:func:`report_inputs`;
        computed, or read from the cache, when left out).

    Returns
    -------
    Path
        The report written (atomically).
    """
    from neuroadapt.report import build_report

    if path is None:
        if run.out_dir is None:
            raise ValueError(
                "report path: the run was not saved; give a path or call run.save(folder) first"
            )
        path = run.out_dir / "report.html"
    inputs = inputs or report_inputs(run.scenario)
    sc = run.scenario
    lifecourse = None
    if sc.behaviour is not None:
        days = sc.behaviour.days()
        lifecourse = {
            "use_days": days[0],
            "discharge_day": sum(days[:2]),
            "subjects": run.subjects,
            "survival": run.survival,
            "clinical": run.clinical,
            "mortality": run.mortality,
            "deaths_by_year": run.deaths_by_year,
        }
    return build_report(
        path,
        scenario=sc,
        cohort=run.users,
        episodes=run.episodes,
        panels=inputs.panels,
        calibration=inputs.calibration,
        params=run.params,
        provenance=run.provenance,
        controls=run.controls,
        lifecourse=lifecourse,
    )


def calibrate(
    scales: Sequence[str] | None = None,
    parameters: Mapping[str, float] | None = None,
    species: str = "human",
) -> pd.DataFrame:
    """The calibration table (one row per literature target) as a DataFrame.

    Parameters
    ----------
    scales
        Only the targets of these scales (``neuroadapt.evidence.calibration.COVERED_SCALES``);
        all of them by default.
    parameters
        Overrides of the ``species`` table (its units, within its bounds), as
        ``neuroadapt calibrate --set``: the verdicts are then those of the
        overridden model, not of the shipped one.
    species
        The table that ``parameters`` override (``"human"`` or ``"rat"``).

    The table of the shipped parameters, all scales, is read from the cache
    when the code has not changed; anything else is evaluated now.

    Raises
    ------
    ValueError
        One line naming an unknown scale, parameter or out-of-bounds value.
    """
    import json
    import os

    from neuroadapt.evidence.cache import evaluate_cached
    from neuroadapt.evidence.calibration import COVERED_SCALES, evaluate
    from neuroadapt.parameters.table import OVERRIDES_ENV

    unknown = [s for s in scales or () if s not in COVERED_SCALES]
    if unknown:
        raise ValueError(
            f"scales = {unknown[0]!r}: not a covered scale; allowed: " + ", ".join(COVERED_SCALES)
        )
    values = dict(parameters or {})
    load_parameters(species).with_table_values(values)  # one-line ParameterError if bad
    before = os.environ.get(OVERRIDES_ENV)
    if values:
        os.environ[OVERRIDES_ENV] = json.dumps({species: values}, sort_keys=True)
    try:
        if scales is None and not values:
            results = evaluate_cached()
        else:
            results = evaluate(tuple(scales) if scales is not None else COVERED_SCALES)
    finally:
        if before is None:
            os.environ.pop(OVERRIDES_ENV, None)
        else:
            os.environ[OVERRIDES_ENV] = before
    table = pd.DataFrame([r.as_dict() for r in results])
    table.attrs["parameter_overrides"] = {species: values} if values else {}
    return table
