"""Generators of MED-PC sessions and mutated files for the reader's property and fuzz tests.

Besides random sessions and byte-level mutations, the generators make what
broke the reader before: a UTF-8 byte-order mark, blank lines anywhere
(between array rows too), long digit runs (quadratic in the old number
check), long CR and space runs, values no float64 holds (``1e999``,
``1e-400``, ``nan``), and special files (a FIFO, ``/dev/zero``, a directory,
a file over the size limit) for :func:`~neuroadapt.io.medpc.read_medpc`.
"""

from __future__ import annotations

import os
import random
import string
from pathlib import Path

import numpy as np

from neuroadapt.io.medpc import Header, Session
from neuroadapt.io.medpc.writer import format_medpc

LETTERS = string.ascii_uppercase
_TEXT = string.ascii_letters + string.digits + " _-./()#"


def random_session(rng: random.Random, file: str | None = None) -> Session:
    letters = rng.sample(LETTERS, rng.randint(1, 8))
    n_scalar = rng.randint(0, len(letters))
    scalars = {k: round(rng.uniform(-1e5, 1e7), rng.choice([0, 3])) for k in letters[:n_scalar]}
    arrays = {}
    columns = {}
    for k in letters[n_scalar:]:
        n = rng.choice([0, 1, 4, 5, 6, 23, 120])
        arrays[k] = np.round(np.array([rng.uniform(0, 1e6) for _ in range(n)]), 3)
        columns[k] = rng.choice([1, 5, 6])
    header = Header(
        file=file,
        start_date=f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(0, 99):02d}",
        end_date="01/02/24",
        subject="".join(rng.choice(_TEXT) for _ in range(rng.randint(1, 8))).strip() or "x",
        experiment="exp",
        group=rng.choice(["1", "6/ Sex: Male/ Genotype: WT"]),
        box=str(rng.randint(1, 16)),
        start_time=f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        end_time="23:59:59",
        msn="neuroadapt_SA_FR1",
    )
    return Session(header=header, scalars=scalars, arrays=arrays, columns=columns)


def random_file(rng: random.Random) -> bytes:
    file = rng.choice([None, "C:\\MED-PC IV\\DATA\\!2024-01-0" + str(rng.randint(1, 9))])
    sessions = [random_session(rng, file) for _ in range(rng.randint(1, 3))]
    text = format_medpc(sessions, columns=rng.choice([None, 1, 5]))
    if rng.random() < 0.3:
        text = text.replace("\r\n", "\n")
    if rng.random() < 0.3:
        text = text.replace("\r\n\r\n", "\r\n\r\r\n")
    return text.encode()


_JUNK = [b"\x00", b"\r", b"\n", b":", b" ", b"-", b".", b"e", b"A", b"\\", b"9", b"\xff", b"Z:"]
BOM = b"\xef\xbb\xbf"
#: Tokens that look like numbers but no float64 holds (or that are not MED-PC numbers).
NON_FINITE = [
    b"1e999",
    b"-1E400",
    b"1e-400",
    b"-0.5e-330",
    b"nan",
    b"inf",
    b"-Infinity",
    b"1e+99999",
]
_BLANK_LINES = [b"\r\n", b"\n", b"\r\r\n", b"\r\n\r\n"]


def digit_run(rng: random.Random) -> bytes:
    """A long run of digits (up to 30,000), maybe with a point, maybe ending in a non-digit."""
    n = rng.choice([200, 1_000, 5_000, 30_000])
    run = b"7" * n
    if rng.random() < 0.5:
        cut = rng.randrange(n)
        run = run[:cut] + b"." + run[cut:]
    return run + rng.choice([b"", b"x", b".", b"e", b"e+", b"-", b":"])


def hostile(rng: random.Random) -> bytes:
    """A run that once made the reader slow or wrong: digits, CRs, spaces, a non-finite value."""
    op = rng.randrange(4)
    if op == 0:
        return digit_run(rng)
    if op == 1:
        return b"\r" * rng.choice([100, 30_000])
    if op == 2:
        return b" " * rng.choice([100, 30_000]) + b"x"
    return rng.choice(NON_FINITE)


def with_blank_lines(data: bytes, rng: random.Random) -> bytes:
    """Blank lines inserted between random lines (array rows included)."""
    lines = data.split(b"\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i < len(lines) - 1 and rng.random() < 0.3:
            out.append(rng.choice(_BLANK_LINES).rstrip(b"\n"))
    return b"\n".join(out)


def replace_a_value(data: bytes, token: bytes, rng: random.Random) -> bytes:
    """Put ``token`` where one of the file's numbers was (or at the end when there is none)."""
    starts = [
        i for i in range(1, len(data)) if data[i - 1 : i] == b" " and data[i : i + 1].isdigit()
    ]
    if not starts:
        return data + token
    i = rng.choice(starts)
    j = i
    while j < len(data) and data[j : j + 1] not in (b" ", b"\r", b"\n"):
        j += 1
    return data[:i] + token + data[j:]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Apply 1-4 random edits: byte flips, inserts, deletes, line shuffles, truncation,
    a byte-order mark, blank lines, long runs and non-finite values."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(11)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice(_JUNK)
        elif op == 2 and buf:
            del buf[pos : pos + rng.randint(1, 40)]
        elif op == 3:
            del buf[pos:]
        elif op == 4:
            lines = bytes(buf).split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            buf = bytearray(b"\n".join(lines))
        elif op == 5:
            lines = bytes(buf).split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[rng.randrange(len(lines))])
            buf = bytearray(b"\n".join(lines))
        elif op == 7:
            buf[0:0] = BOM
        elif op == 8:
            buf = bytearray(with_blank_lines(bytes(buf), rng))
        elif op == 9:
            buf = bytearray(replace_a_value(bytes(buf), hostile(rng), rng))
        elif op == 10:
            buf[pos:pos] = hostile(rng)
        else:
            buf[pos:pos] = bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 12)))
    return bytes(buf)


#: Kinds of special file :func:`special_file` makes.
SPECIAL = ("fifo", "fifo_link", "dev_zero", "dev_zero_link", "directory", "oversized", "sparse")


def special_file(kind: str, directory: Path, rng: random.Random) -> tuple[Path, int | None]:
    """Make a file ``read_medpc`` must refuse; returns its path and the ``max_bytes`` to pass.

    ``oversized`` is a valid MED-PC file just over a small limit; ``sparse``
    a hole of just over the default limit (nothing is written to disk).
    """
    from neuroadapt.io.medpc import MAX_BYTES

    path = directory / f"{kind}-{rng.randrange(10**9)}"
    if kind in ("fifo", "fifo_link"):
        target = path.with_name(path.name + ".fifo")
        os.mkfifo(target)
        if kind == "fifo":
            return target, None
        path.symlink_to(target)
        return path, None
    if kind in ("dev_zero", "dev_zero_link"):
        if kind == "dev_zero":
            return Path("/dev/zero"), None
        path.symlink_to("/dev/zero")
        return path, None
    if kind == "directory":
        path.mkdir()
        return path, None
    if kind == "oversized":
        data = random_file(rng)
        path.write_bytes(data)
        return path, max(1, len(data) - rng.randint(1, len(data)))
    if kind == "sparse":
        with path.open("wb") as handle:
            handle.truncate(MAX_BYTES + rng.randint(1, 2**20))
        return path, None
    raise ValueError(kind)
