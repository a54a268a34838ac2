r"""Read MED-PC IV text files into :class:`~.model.Session` objects.

The format, as MED-PC IV writes it (``docs/medpc.md`` shows each variant):

.. code-block:: text

    File: C:\MED-PC IV\DATA\!2015-09-25_10h38m.Subject ML03     (once per file)
                                                              (blank lines)
    Start Date: 09/25/15                                      (starts a session)
    End Date: 09/25/15
    Subject: ML03
    Experiment: value switching
    Group: 1
    Box: 3
    Start Time: 10:38:46
    End Time: 11:08:58
    MSN: Lick_CShift_FI30_Box123
    C:       0.000                                            (a scalar)
    A:                                                        (an array ...)
         0:    10602.001    10602.011    10602.051    10852.021    10900.001
         5:    10900.011 ...                                  (... row index: values)
    \water volume                                             (a comment line)

Rules the reader applies:

* lines end in CRLF, LF or a lone CR; stray CRs (``\r\r\n``) are line ends too,
  and blank lines anywhere are ignored (also between the rows of an array);
  a UTF-8 byte-order mark at the start is dropped;
* a session starts at ``Start Date:`` (or at the first header line of a file
  without one), so one file may hold many sessions;
* array rows hold any number of values (``DISKCOLUMNS = 1`` writes one, the
  default five); each row's index must equal the number of values before it;
* values are kept exactly as written: zero padding and sentinels such as
  ``-987.987`` stay in the arrays (a profile says what to drop); a value a
  float64 cannot hold (``1e999``, or ``1e-400``, which would read as 0) is an
  error, as is ``nan``;
* the scan is linear in the size of the file (no regular expression that
  backtracks), and :func:`read_medpc` reads only regular files up to
  ``max_bytes`` (:data:`MAX_BYTES` by default);
* an array label with no rows (``P:`` followed by the next label) is an empty
  array, as MED-PC writes a variable with nothing stored;
* comment lines (``\...``) are kept on the session;
* a problem inside a session skips that session (until the next
  ``Start Date:``) and lists it on :attr:`MedPCFile.skipped` with the line and
  the reason; a file in which no session can be read — or whose first line is
  not MED-PC at all, or which holds binary data — raises :class:`MedPCError`.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuroadapt.io.medpc.errors import MedPCError, SkippedSession
from neuroadapt.io.medpc.model import HEADER_FIELDS, Header, MedPCFile, Session

__all__ = ["MAX_BYTES", "parse_medpc", "read_medpc", "split_lines"]

#: Largest file :func:`read_medpc` reads by default (bytes); MED-PC files are
#: rarely above a few MB (the largest shared example is 593 kB).
MAX_BYTES = 64 * 2**20
_BINARY = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_HEADER = re.compile(r"(" + "|".join(HEADER_FIELDS) + r"):(.*)\Z")
_VARIABLE = re.compile(r"([A-Z]):(.*)\Z")
_ROW = re.compile(r"\s*(\d+):(.*)\Z")
# possessive quantifiers: a failed match never backtracks, so checking a token is linear
_NUMBER = re.compile(r"[-+]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?+\d++)?+")
_NONZERO_DIGIT = re.compile(r"[1-9]")
_BOM = "\ufeff"
_MAX_INDEX = 10_000_000


def split_lines(text: str) -> list[str]:
    r"""Split at CRLF, LF or lone CR (``\r\r\n`` is one line end, as editors show it).

    >>> split_lines("a\r\nb\r\r\nc\rd")
    ['a', 'b', 'c', 'd']

    A run of CRs before an LF is one line end; CRs not followed by an LF are
    one line end each. The split is linear in the length of the text.
    """
    pieces = text.split("\n")
    lines: list[str] = []
    for piece in pieces[:-1]:
        lines.extend(piece.rstrip("\r").split("\r"))
    lines.extend(pieces[-1].split("\r"))
    return lines


def _line_of(text: str, pos: int) -> int:
    """1-based line number of the character at ``pos``."""
    return len(split_lines(text[:pos]))


def _check_text(text: str, where: Path | None) -> str:
    if text.startswith(_BOM):
        text = text[1:]
    bad = _BINARY.search(text)
    if bad:
        raise MedPCError(
            f"binary data (character 0x{ord(bad.group()):02x}): not a MED-PC text file",
            where,
            _line_of(text, bad.start()),
        )
    return text


def _decode(data: bytes, path: Path | None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark (Notepad adds one)
        data = data[3:]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return _check_text(text.rstrip("\x1a"), path)  # DOS end-of-file marker


class _SessionError(Exception):
    def __init__(self, reason: str):
        self.reason = reason


@dataclass
class _Builder:
    start_line: int
    file_field: str | None
    fields: dict[str, str] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, list[float]] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    array: str | None = None

    def has_variables(self) -> bool:
        return bool(self.scalars or self.arrays)

    def header(self, key: str, value: str) -> None:
        self.fields[key] = value.strip()
        self.array = None

    def variable(self, letter: str, rest: str) -> None:
        if letter in self.scalars or letter in self.arrays:
            raise _SessionError(f"variable {letter} appears twice in the session")
        rest = rest.strip()
        if not rest:
            self.arrays[letter] = []
            self.columns[letter] = 0
            self.array = letter
            return
        tokens = rest.split()
        if len(tokens) != 1:
            raise _SessionError(f"scalar {letter} has {len(tokens)} values, expected one")
        self.scalars[letter] = _number(tokens[0])
        self.array = None

    def row(self, index: str, rest: str) -> None:
        if self.array is None:
            raise _SessionError(f"array row '{index}:' outside an array")
        values = self.arrays[self.array]
        if len(index) > 8 or int(index) != len(values):
            raise _SessionError(
                f"array {self.array}: row index {index}, expected {len(values)} "
                "(the number of values before it)"
            )
        tokens = rest.split()
        if not tokens:
            raise _SessionError(f"array {self.array}: row {index} has no values")
        values.extend(_number(t) for t in tokens)
        if len(values) > _MAX_INDEX:
            raise _SessionError(f"array {self.array} longer than {_MAX_INDEX} values")
        self.columns[self.array] = max(self.columns[self.array], len(tokens))

    def build(self) -> Session:
        if not self.has_variables():
            raise _SessionError("session has a header but no variables (truncated?)")
        fields = dict(self.fields)
        if self.file_field is not None:
            fields["File"] = self.file_field
        return Session(
            header=Header.from_fields(fields),
            scalars=dict(self.scalars),
            arrays={k: np.asarray(v, dtype=np.float64) for k, v in self.arrays.items()},
            columns=dict(self.columns),
            comments=tuple(self.comments),
            line=self.start_line,
        )


def _number(token: str) -> float:
    if _NUMBER.fullmatch(token) is None:
        raise _SessionError(f"'{token[:40]}' is not a number")
    value = float(token)
    if not math.isfinite(value):
        raise _SessionError(f"'{token[:40]}' is out of range (a float64 overflows to infinity)")
    if value == 0.0:
        mantissa = token.partition("e")[0].partition("E")[0]
        if _NONZERO_DIGIT.search(mantissa):
            raise _SessionError(f"'{token[:40]}' is out of range (a float64 underflows to 0)")
    return value


def parse_medpc(text: str | bytes, path: str | os.PathLike[str] | None = None) -> MedPCFile:
    r"""Parse the text of a MED-PC file.

    Parameters
    ----------
    text
        File contents (``bytes`` are decoded as UTF-8, else Windows-1252).
    path
        Where the text came from (used in errors and on the result).

    Returns
    -------
    MedPCFile
        The sessions read and the sessions skipped (with line and reason).

    Raises
    ------
    MedPCError
        If the file is not MED-PC output: binary data, a first line that is not
        a MED-PC header, or no session that can be read.

    Examples
    --------
    >>> f = parse_medpc("Start Date: 01/02/24\nSubject: R1\nA:       3.000\n"
    ...                 "B:\n     0:        1.000        2.000\n")
    >>> f[0].header.subject, f[0].scalars["A"], f[0].arrays["B"].tolist()
    ('R1', 3.0, [1.0, 2.0])
    """
    where = None if path is None else Path(path)
    text = _decode(text, where) if isinstance(text, bytes) else _check_text(text, where)
    sessions: list[Session] = []
    skipped: list[SkippedSession] = []
    file_field: str | None = None
    current: _Builder | None = None
    pending_comments: list[str] = []
    skipping = False
    seen_content = False

    last_content = 1

    def finish() -> None:
        nonlocal current
        if current is None:
            return
        try:
            sessions.append(current.build())
        except _SessionError as exc:
            skipped.append(
                SkippedSession(
                    current.start_line, last_content, exc.reason, current.fields.get("Subject")
                )
            )
        current = None

    for lineno, raw in enumerate(split_lines(text), start=1):
        line = raw.rstrip()
        if not line:
            continue
        stripped = line.lstrip()
        header = _HEADER.match(stripped)
        if current is not None and not (header and header.group(1) in ("File", "Start Date")):
            last_content = lineno
        if skipping:
            if header is None or header.group(1) not in ("Start Date", "File"):
                continue
            skipping = False
        try:
            if header is not None:
                key, value = header.group(1), header.group(2)
                seen_content = True
                if key == "File":
                    finish()
                    file_field = value.strip()
                    continue
                if (
                    current is None
                    or key == "Start Date"
                    or key in current.fields
                    or current.has_variables()
                ):
                    finish()
                    current = _Builder(lineno, file_field, comments=pending_comments)
                    last_content = lineno
                    pending_comments = []
                current.header(key, value)
                continue
            if stripped.startswith("\\"):
                (current.comments if current is not None else pending_comments).append(stripped[1:])
                continue
            if current is None:
                what = "the first line" if not seen_content else "a line outside any session"
                raise MedPCError(
                    f"not MED-PC output: {what} is not a MED-PC header "
                    f"(expected 'File:' or 'Start Date:'), found '{line[:60]}'",
                    where,
                    lineno,
                )
            variable = _VARIABLE.match(stripped)
            if variable is not None:
                current.variable(variable.group(1), variable.group(2))
                continue
            row = _ROW.match(line)
            if row is not None:
                current.row(row.group(1), row.group(2))
                continue
            raise _SessionError(f"unrecognised line '{line[:60]}'")
        except _SessionError as exc:
            assert current is not None
            skipped.append(
                SkippedSession(
                    current.start_line, lineno, exc.reason, current.fields.get("Subject")
                )
            )
            current = None
            skipping = True
    finish()
    if not sessions:
        if skipped:
            first = skipped[0]
            raise MedPCError(f"no readable MED-PC session: {first.reason}", where, first.line)
        raise MedPCError("no MED-PC session found (empty file?)", where, 1)
    return MedPCFile(where, tuple(sessions), tuple(skipped))


def read_medpc(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> MedPCFile:
    """Read a MED-PC file (any name, with or without extension).

    Parameters
    ----------
    path
        The file. Only a regular file is read (not a FIFO, a device or a
        socket: ``/dev/zero`` would never end and a FIFO may block forever).
    max_bytes
        Largest size read (default :data:`MAX_BYTES`); a larger file is an error.

    Returns
    -------
    MedPCFile
        Sessions and skipped sessions.

    Raises
    ------
    MedPCError
        If the file is missing, not a regular file, larger than ``max_bytes``,
        unreadable or not MED-PC output (with the line).
    """
    p = Path(path)
    if max_bytes < 1:
        raise ValueError(f"max_bytes = {max_bytes}: must be >= 1")
    try:
        info = os.stat(p)
        _check_kind(info.st_mode, p)
        # O_NONBLOCK: should the path become a FIFO after the stat, open does not block
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            _check_kind(info.st_mode, p)
            if info.st_size > max_bytes:
                raise _too_large(info.st_size, max_bytes, p)
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise MedPCError("no such file", p) from None
    except IsADirectoryError:
        raise MedPCError("is a directory, not a MED-PC file", p) from None
    except OSError as exc:
        raise MedPCError(f"cannot read: {exc.strerror}", p) from None
    if len(data) > max_bytes:  # grew after the stat, or a size the system does not report
        raise _too_large(len(data), max_bytes, p)
    return parse_medpc(data, p)


def _check_kind(mode: int, path: Path) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise MedPCError("is a directory, not a MED-PC file", path)
    kinds = (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    raise MedPCError(f"is {kind}, not a regular file; MED-PC files are plain files", path)


def _too_large(size: int, max_bytes: int, path: Path) -> MedPCError:
    return MedPCError(
        f"{'at least ' if size == max_bytes + 1 else ''}{size} bytes, larger than the limit "
        f"of {max_bytes} bytes (raise max_bytes, or the CLI's --max-mb)",
        path,
    )
