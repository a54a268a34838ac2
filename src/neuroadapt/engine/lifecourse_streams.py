"""Counter-based random streams of the life course, keyed by seed, subject, counter and name."""

from __future__ import annotations

import functools

import numpy as np

from neuroadapt.parameters.table import splitmix64, stream_base, subject_uniform


@functools.lru_cache(maxsize=64)
def _stream_key(name: str) -> np.uint64:
    """A stream's name as a 63-bit key (computed once per name)."""
    return np.uint64(sum(ord(c) * 131**i for i, c in enumerate(name)) & ((1 << 63) - 1))


def uniform_stream(seed: int, ids: np.ndarray, counter, name: str) -> np.ndarray:
    """Uniform draws in (0, 1), keyed by ``(seed, subject, counter, name)``.

    ``counter`` (e.g. the day) is a number or an array aligned with ``ids``.
    """
    return _stream_draw(_stream_base(seed, counter, name), ids)


def _stream_base(seed: int, counter, name: str) -> np.ndarray:
    """The part of ``uniform_stream`` that does not depend on the subject."""
    with np.errstate(over="ignore"):
        c = np.asarray(counter, dtype=np.uint64) * np.uint64(0xD1B54A32D192ED03)
        return splitmix64(stream_base(seed, _stream_key(name)) ^ c)


#: ``uniform_stream`` from its subject-free part (aligned with the subjects).
_stream_draw = subject_uniform
