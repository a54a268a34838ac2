"""The Python face of neuroadapt: scenario in, a run in memory out, saved and read back.

>>> import neuroadapt as na
>>> s = na.load_scenario("default")          # doctest: +SKIP
>>> run = na.simulate(s)                     # doctest: +SKIP
>>> run.result.dataset, run.tables["mortality"]   # doctest: +SKIP
>>> run.save("results/my-study")             # doctest: +SKIP
>>> again = na.load_run("results/my-study")  # doctest: +SKIP

``neuroadapt`` re-exports these names lazily, so that ``import neuroadapt``
(and the command line) stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from neuroadapt.experiments.run import RunOutputs as Run
from neuroadapt.experiments.run import load_run, resolve, run_scenario
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios import Scenario, load_scenario, loads_scenario

__all__ = [
    "Run",
    "Scenario",
    "load_run",
    "load_scenario",
    "loads_scenario",
    "parameter_table",
    "simulate",
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
    """The parameter table of a species: value, unit, bounds, variability, fitted, source."""
    return pd.DataFrame(load_parameters(species).to_rows())
