"""Fuzzing the reader: generated and mutated files raise only MedPCError, with a line."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpc_gen import mutate, random_file
from neuroadapt.io.medpc import MedPCError, MedPCFile, parse_medpc


def check(data: bytes) -> str:
    """Parse; only MedPCError may escape, and it must carry a line inside the file."""
    n_lines = data.count(b"\n") + data.count(b"\r") + 1
    try:
        result = parse_medpc(data, "fuzz")
    except MedPCError as exc:
        assert exc.line is not None and 1 <= exc.line <= n_lines, (exc, data[:200])
        assert "\n" not in str(exc)
        return "rejected"
    assert isinstance(result, MedPCFile) and len(result) >= 1
    for skip in result.skipped:
        assert 1 <= skip.start_line <= skip.line <= n_lines
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


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=150, deadline=None)
def test_hypothesis_arbitrary_bytes(data):
    check(data)


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
