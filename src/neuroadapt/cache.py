"""Where neuroadapt keeps results it can recompute, and the key that says they are current.

Evaluating the calibration table and the report's figure experiments takes
tens of seconds and depends only on the code, the parameters and the
targets, not on the scenario being run. Both are cached under a key hashed
from the package version and the bytes of every source, parameter and
target file outside the layers that cannot change them (``cli``, ``report``,
``imaging``, ``analysis``: import-linter keeps the lower layers from
importing those), so any change to the model, its parameters, the engine or
the targets gives a new key and nothing stale is ever served. The cache
lives in ``$NEUROADAPT_CACHE``, else ``$XDG_CACHE_HOME/neuroadapt``, else
``~/.cache/neuroadapt``; deleting it is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import neuroadapt

__all__ = ["NOT_USED", "cache_dir", "cached", "code_key"]

T = TypeVar("T")


def cache_dir() -> Path:
    """Where cached results are kept."""
    if os.environ.get("NEUROADAPT_CACHE"):
        return Path(os.environ["NEUROADAPT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neuroadapt"


#: Top-level packages that cached results cannot depend on (higher layers).
NOT_USED = ("cli", "report", "imaging", "analysis")


def code_key(skip: tuple[str, ...] = ()) -> str:
    """Hash of the code cached results can depend on, and of parameter overrides.

    The code: the version and every .py/.csv/.toml file outside ``NOT_USED``;
    the overrides: ``$NEUROADAPT_PARAMETERS`` (``calibrate --set``).

    ``skip`` names further top-level packages the result cannot depend on (e.g.
    ``("evidence",)`` for a simulation the checks only read). The files are read
    once per process and ``skip`` (a run asks for it for the calibration table
    and the figure experiments).
    """
    h = hashlib.sha256(_files_key(skip).encode())
    # parameter overrides of the whole process (``calibrate --set``) change every result
    overrides = os.environ.get("NEUROADAPT_PARAMETERS", "").strip()
    if overrides:
        h.update(overrides.encode())
    return h.hexdigest()[:20]


@functools.lru_cache(maxsize=4)
def _files_key(skip: tuple[str, ...]) -> str:
    root = Path(neuroadapt.__file__).parent
    h = hashlib.sha256(neuroadapt.__version__.encode())
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if rel[0] in (*NOT_USED, *skip) or "__pycache__" in rel:
            continue
        if path.suffix in (".py", ".csv", ".toml"):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def cached(
    path: Path,
    load: Callable[[Path], T],
    compute: Callable[[], T],
    save: Callable[[Path, T], None],
) -> T:
    """``load(path)`` if it can be read, else ``compute()``, saved with ``save(path, value)``.

    An entry that is missing, unreadable or from another layout is recomputed;
    a cache that cannot be written (e.g. a read-only home) is not an error.
    """
    try:
        return load(path)
    except (OSError, ValueError, TypeError, KeyError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(path, value)
    except OSError:
        pass
    return value
