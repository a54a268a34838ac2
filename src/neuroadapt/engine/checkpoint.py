"""Checkpoints of finished chunks, keyed by the code and the inputs, checked when read.

A chunk's file name carries its key: a hash of the code that computed it
(:func:`neuroadapt.cache.code_key`: the version and every source, parameter
and target file the engine can depend on) and of everything the chunk
depends on (parameters hash, doses, seed, options...). The file also stores
the key and a SHA-256 checksum of its arrays; a chunk whose key or checksum
does not match (edited on disk, truncated, left by another version of the
code) is not used, and the caller computes it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from neuroadapt.atomic import write_with
from neuroadapt.cache import code_key

__all__ = ["chunk_key", "load_chunk", "save_chunk"]

_KEY, _SUM = "__key__", "__sha256__"


def chunk_key(payload: dict) -> str:
    """Key of a chunk computed from ``payload`` by this version of the code."""
    text = json.dumps({"code": code_key(), "inputs": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checksum(arrays: dict[str, np.ndarray], key: str) -> str:
    h = hashlib.sha256(key.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_chunk(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], key: str) -> None:
    """Write a chunk's arrays atomically with its key and checksum."""
    extra = {_KEY: np.array(key), _SUM: np.array(_checksum(arrays, key))}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a name
            np.savez(f, **arrays, **extra)

    write_with(path, write, suffix=".npz")


def load_chunk(path: str | os.PathLike[str], key: str) -> dict[str, np.ndarray] | None:
    """The arrays of a checkpointed chunk, or ``None`` if it is absent or does not match.

    A file that cannot be read, was written under another key, or whose arrays
    do not match their checksum is deleted, so that the recomputed chunk replaces it.
    """
    p = Path(path)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
        stored_key, stored_sum = str(data.pop(_KEY)), str(data.pop(_SUM))
        good = stored_key == key and stored_sum == _checksum(data, key)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        good = False
    if not good:
        with contextlib.suppress(OSError):
            p.unlink()
        return None
    return data
