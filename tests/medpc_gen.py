"""Generators of MED-PC sessions and mutated files for the reader's property and fuzz tests."""

from __future__ import annotations

import random
import string

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


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Apply 1-4 random edits: byte flips, inserts, deletes, line shuffles, truncation."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
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
        else:
            buf[pos:pos] = bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 12)))
    return bytes(buf)
