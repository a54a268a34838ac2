"""Every random stream of neuroadapt: counter-based, keyed, with no shared state.

A simulated number never comes from a generator that other code also draws
from. Each is a hash of its key: the run's seed, the subject, a counter (a
day, a dose, an episode) and the name or purpose of the quantity. The same
key always gives the same number, so a subject's numbers do not depend on
the chunk, the worker, the machine or the other subjects of the run, and
adding a parameter or a stream changes no other draw. The hash is the
SplitMix64 finaliser (Steele, Lea & Flood 2014), as numpy arrays
(:func:`splitmix64`) and compiled for the numba kernels
(:func:`splitmix64_one`, tested equal).

Key schemes
-----------
Five schemes are in use today, each defined below:

- **per-subject parameters, cohort covariates, the rats' side biases**:
  (seed, CRC-32 of the name, subject), :func:`standard_normal_stream`;
- **life-course behaviour** (arm, lapse, cue, cessation, purity, batches,
  fentanyl, co-use, other-cause deaths): (seed, polynomial hash of the name,
  counter, subject), :func:`uniform_stream`;
- **kernel events** (whether a rescuer finds the person): (seed, subject,
  counter), :func:`event_uniform`;
- **white-matter events** (leukoencephalopathy, lesions, DPHL): (seed,
  subject, day, purpose number), :func:`uniform_hash`;
- **imaging** noise fields and permutation tests: ``numpy.random.default_rng``
  seeded with ``[seed, key]`` (``neuroadapt.imaging``).

The imaging module's fields and permutation tests are whole arrays drawn from
a seeded numpy ``Generator``, which is fine there (one draw per map, not per
subject-day); the four per-subject schemes are the ones to merge into one key
layout, which changes every drawn number once and needs the calibration
redone (issue 12).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
from numba import njit
from scipy.special import ndtri

__all__ = [
    "event_uniform",
    "hash_unit",
    "splitmix64",
    "splitmix64_one",
    "standard_normal_stream",
    "stream_base",
    "subject_uniform",
    "uniform_hash",
    "uniform_stream",
]

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
#: 2**53: the top 53 bits of a hash make a double in [0, 1).
_TWO53 = 9007199254740992.0


# ----------------------------------------------------------------- the hash
def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (a counter-based random stream)."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def splitmix64_one(x):
    """:func:`splitmix64` of one uint64, compiled for the numba code (tested equal)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# ------------------------------------------ per-subject parameters, covariates
def stream_base(seed: int, key: np.uint64) -> np.uint64:
    """Subject-free start of a counter-based stream: the hash of (seed, stream key)."""
    with np.errstate(over="ignore"):
        return splitmix64(np.uint64(seed) * np.uint64(0x100000001B3) ^ key)


def subject_uniform(base, subjects: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1), one per subject, from a stream's subject-free part ``base``."""
    with np.errstate(over="ignore"):
        x = splitmix64(base ^ (np.asarray(subjects, dtype=np.uint64) * np.uint64(0x9E3779B1)))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO53


def standard_normal_stream(seed: int, subjects: np.ndarray, name: str) -> np.ndarray:
    """Standard normal draws, one per subject, for the quantity ``name``.

    Each (seed, subject, name) has its own counter-based stream, so a subject's
    draw does not depend on the chunk it is simulated in, nor on which other
    parameters exist (adding a parameter to the table changes no other draw).
    """
    base = stream_base(seed, np.uint64(zlib.crc32(name.encode())))
    return ndtri(subject_uniform(base, subjects))


# ----------------------------------------------------- life-course behaviour
@functools.lru_cache(maxsize=64)
def _stream_key(name: str) -> np.uint64:
    """A stream's name as a 63-bit key (computed once per name)."""
    return np.uint64(sum(ord(c) * 131**i for i, c in enumerate(name)) & ((1 << 63) - 1))


def uniform_stream(seed: int, ids: np.ndarray, counter, name: str) -> np.ndarray:
    """Uniform draws in (0, 1), keyed by ``(seed, subject, counter, name)``.

    ``counter`` (e.g. the day) is a number or an array aligned with ``ids``.
    """
    return counter_stream_draw(counter_stream_base(seed, counter, name), ids)


def counter_stream_base(seed: int, counter, name: str) -> np.ndarray:
    """The part of :func:`uniform_stream` that does not depend on the subject."""
    with np.errstate(over="ignore"):
        c = np.asarray(counter, dtype=np.uint64) * np.uint64(0xD1B54A32D192ED03)
        return splitmix64(stream_base(seed, _stream_key(name)) ^ c)


#: :func:`uniform_stream` from its subject-free part (aligned with the subjects).
counter_stream_draw = subject_uniform


# ------------------------------------------------------------- kernel events
@njit(cache=True, inline="always")
def hash_unit(x):
    """A uint64 hashed to a uniform in [0, 1) (compiled; the kernel's event streams)."""
    return float(splitmix64_one(x) >> np.uint64(11)) / _TWO53


@njit(cache=True)
def event_uniform(seed, subject, counter):
    """Uniform in [0, 1) keyed by (seed, subject, counter), e.g. a subject's k-th rescue draw."""
    h = hash_unit(np.uint64(seed) * np.uint64(1000003) + np.uint64(subject))
    k = np.uint64(int(h * _TWO53)) ^ np.uint64(counter * 2654435761)
    return hash_unit(k)


# ------------------------------------------------------- white-matter events
def hash_link(h: np.ndarray, part) -> np.ndarray:
    """One link of a hash chain: ``splitmix64(h ^ round(part))``."""
    return splitmix64(h ^ np.asarray(np.round(part), dtype=np.int64).astype(np.uint64))


def hash_to_unit(h: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) from the top 53 bits of hashes."""
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def chain_start(seed) -> np.ndarray:
    """First link of a :func:`uniform_hash` chain: the hash of the seed."""
    with np.errstate(over="ignore"):
        return splitmix64(np.asarray(seed, dtype=np.uint64) + np.uint64(0))


def uniform_hash(seed, subject, day, purpose: int) -> np.ndarray:
    """Uniform numbers in [0, 1) from a hash of (seed, subject, day, purpose).

    A counter-based generator (SplitMix64 finaliser applied in sequence): the
    same arguments always give the same number, with no shared state.

    Examples
    --------
    >>> u = uniform_hash(0, np.arange(3), 5, 1)
    >>> bool(np.all((u >= 0) & (u < 1))), bool(np.all(u == uniform_hash(0, np.arange(3), 5, 1)))
    (True, True)
    """
    with np.errstate(over="ignore"):
        h = chain_start(seed)
        for part in (subject, day, purpose):
            h = hash_link(h, part)
    return hash_to_unit(h)


@njit(cache=True)
def day_links(h_subject, idx, day, purpose):
    """``hash_to_unit(hash_link(hash_link(h_subject, day), purpose))`` at ``idx``, in one pass."""
    out = np.empty(idx.size)
    for j in range(idx.size):
        i = idx[j]
        h = splitmix64_one(h_subject[i] ^ np.uint64(np.int64(np.rint(day[i]))))
        h = splitmix64_one(h ^ np.uint64(purpose))
        out[j] = np.float64(h >> np.uint64(11)) / _TWO53
    return out
