"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or Ctrl-C never leaves a half-written result where a good one was.
This module uses only the standard library so every layer may import it.

A temporary is named ``.<target>.na-<host>-<pid>-<random><suffix>.tmp``: the
host (a short hash of its name) and the process that writes it. A process
killed before the rename (``SIGKILL``, a lost machine) leaves its temporary
behind; :func:`remove_stale_temporaries` deletes those of processes of this
host that no longer run, and nothing else (not another program's file, not
the temporary of a run still going, not one written from another machine
sharing the folder). Every successful write calls it for its own target.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "remove_stale_temporaries", "write_text", "write_with"]

#: This host, as it appears in the names of its temporaries.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
#: Names of temporaries written by :func:`atomic_path` (group 1: target, 2: host, 3: pid).
_TEMP_RE = re.compile(
    r"^\.(.+)\.na-([0-9a-f]{8})-([0-9]+)-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)*\.tmp$", re.ASCII
)


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (or cannot be asked: then yes)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):
        return True  # another user's process, or not a process id we can ask about
    return True


def remove_stale_temporaries(
    directory: str | os.PathLike[str], target: str | None = None
) -> list[Path]:
    """Delete the temporaries that killed writers left in ``directory``.

    Only files named as :func:`atomic_path` names them, written on this host
    by a process that no longer runs, are removed.

    Parameters
    ----------
    directory
        Folder to clean (a missing folder holds nothing).
    target
        Only the temporaries of this file name (default: of every target).

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or m.group(2) != _HOST or (target is not None and m.group(1) != target):
            continue
        if _running(int(m.group(3))) or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    Parameters
    ----------
    path
        Final destination.
    suffix
        Suffix for the temporary file (some writers infer the format from it).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.na-{_HOST}-{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=suffix + ".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    remove_stale_temporaries(target.parent, target.name)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_with(
    path: str | os.PathLike[str], writer: Callable[[Path], object], suffix: str = ""
) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path, suffix) as tmp:
        writer(tmp)
    return Path(path)
