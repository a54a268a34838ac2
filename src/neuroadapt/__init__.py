"""neuroadapt: an open laboratory for the neurological consequences of chronic heroin use.

The public API is what this module re-exports (:mod:`neuroadapt.api`): a scenario
goes in (:func:`load_scenario`), a :class:`Run` comes out in memory
(:func:`simulate`), and it can be saved (``Run.save``) and read back
(:func:`load_run`), reported (:func:`write_report`) and set beside the calibration
table (:func:`calibrate`). The names load on first use, so ``import neuroadapt`` is fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neuroadapt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Run",
    "Scenario",
    "__version__",
    "calibrate",
    "load_run",
    "load_scenario",
    "loads_scenario",
    "parameter_table",
    "simulate",
    "write_report",
]

_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str):
    if name in _API:
        from neuroadapt import api

        return getattr(api, name)
    raise AttributeError(f"module 'neuroadapt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
