"""The reader's one error type and the record of a session it had to skip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MedPCError", "SkippedSession"]


class MedPCError(ValueError):
    """A file (or a profile) is not valid MED-PC input; the message is one line.

    Parameters
    ----------
    message : str
        What is wrong, in words.
    path : str or Path or None
        The file read (``None`` for text parsed from memory).
    line : int or None
        The 1-based line number where the problem was found (lines are split at
        CRLF, LF or a lone CR; a CR immediately before LF does not count twice).
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else Path(path)
        self.line = line
        where = str(self.path) if self.path is not None else "<text>"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class SkippedSession:
    """A session the reader could not parse; listed on the result, never dropped silently.

    Attributes
    ----------
    start_line : int
        Line where the session began (its ``Start Date:`` or first header line).
    line : int
        Line of the first problem.
    reason : str
        What was wrong.
    subject : str or None
        The ``Subject:`` field, when it had been read before the problem.
    """

    start_line: int
    line: int
    reason: str
    subject: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form (for JSON)."""
        return {
            "start_line": self.start_line,
            "line": self.line,
            "reason": self.reason,
            "subject": self.subject,
        }
