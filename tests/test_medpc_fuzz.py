"""Fuzzing the reader: generated, mutated and hostile files and special files.

Only :class:`MedPCError` may escape (with a line inside the file when parsing
text), every input is handled within :data:`LIMIT_S` seconds, and what is
read is finite (so ``inspect --json`` is standard JSON).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpc_gen import (
    BOM,
    SPECIAL,
    hostile,
    mutate,
    random_file,
    replace_a_value,
    special_file,
    with_blank_lines,
)
from neuroadapt.io.medpc import MedPCError, MedPCFile, parse_medpc, read_medpc

#: Seconds one input may take. Generous: the largest input (~60 kB) parses in
#: milliseconds, and the quadratic scans this guards against took 30 s and more.
LIMIT_S = 10.0


class TookTooLong(AssertionError):
    pass


@contextlib.contextmanager
def time_limit(what: str):
    """Fail (never hang) when the body runs past LIMIT_S: SIGALRM where it can, else a clock."""
    use_alarm = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )

    def alarm(signum, frame):
        raise TookTooLong(f"{what}: still running after {LIMIT_S} s")

    if use_alarm:
        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    start = time.perf_counter()
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"{what}: {elapsed:.1f} s"


def assert_finite(result: MedPCFile) -> None:
    for s in result:
        assert all(math.isfinite(v) for v in s.scalars.values())
        assert all(np.isfinite(a).all() for a in s.arrays.values())
    json.dumps(result.describe(), allow_nan=False)  # standard JSON


def check(data: bytes) -> str:
    """Parse; only MedPCError may escape, and it must carry a line inside the file."""
    n_lines = data.count(b"\n") + data.count(b"\r") + 1
    try:
        with time_limit(f"{len(data)} bytes starting {data[:60]!r}"):
            result = parse_medpc(data, "fuzz")
    except MedPCError as exc:
        assert exc.line is not None and 1 <= exc.line <= n_lines, (exc, data[:200])
        assert "\n" not in str(exc)
        return "rejected"
    assert isinstance(result, MedPCFile) and len(result) >= 1
    for skip in result.skipped:
        assert 1 <= skip.start_line <= skip.line <= n_lines
    assert_finite(result)
    return "skipped" if result.skipped else "clean"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.binary(max_size=64))
def test_hypothesis_generated_and_mutated_files(seed, noise):
    rng = random.Random(seed)
    data = random_file(rng)
    check(data)
    check(mutate(data, rng))
    cut = rng.randrange(len(data) + 1)
    check(data[:cut] + noise + data[cut:])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_hypothesis_hostile_files(seed):
    """BOM and blank lines change nothing; long runs and non-finite values only reject."""
    rng = random.Random(seed)
    data = random_file(rng)
    clean = parse_medpc(data)
    assert list(parse_medpc(BOM + data).sessions) == list(clean.sessions)
    assert list(parse_medpc(with_blank_lines(data, rng)).sessions) == list(clean.sessions)
    run = hostile(rng)
    check(replace_a_value(data, run, rng))
    cut = rng.randrange(len(data) + 1)
    check(data[:cut] + run + data[cut:])
    check(BOM + with_blank_lines(mutate(data, rng), rng))


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=150, deadline=None)
def test_hypothesis_arbitrary_bytes(data):
    check(data)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SPECIAL), st.integers(0, 2**32 - 1))
def test_hypothesis_special_files_are_refused(tmp_path_factory, kind, seed):
    if kind.startswith("dev_zero") and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    path, max_bytes = special_file(kind, tmp_path_factory.mktemp(kind), random.Random(seed))
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    with pytest.raises(MedPCError) as err, time_limit(f"read_medpc({kind})"):
        read_medpc(path, **kwargs)
    assert "\n" not in str(err.value)
    words = {"directory": "is a directory", "oversized": "larger than the limit"}
    words |= {"sparse": "larger than the limit", "fifo": "FIFO", "fifo_link": "FIFO"}
    assert words.get(kind, "not a regular file") in str(err.value)


def run_mutation_loop(n: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"clean": 0, "skipped": 0, "rejected": 0}
    base = random_file(rng)
    for i in range(n):
        if i % 20 == 0:
            base = random_file(rng)
        counts[check(mutate(base, rng))] += 1
    return counts


def test_mutation_loop_fast():
    counts = run_mutation_loop(400, seed=1)
    assert all(v > 0 for v in counts.values()), counts


@pytest.mark.slow
def test_mutation_loop_100k():
    start = time.perf_counter()
    counts = run_mutation_loop(100_000, seed=2024)
    elapsed = time.perf_counter() - start
    print(f"100,000 mutated files in {elapsed:.1f} s: {counts}")
    assert sum(counts.values()) == 100_000 and all(v > 1000 for v in counts.values()), counts
