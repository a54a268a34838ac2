"""Profiles: what a MED-PC program's letters mean, its clock and its event encoding.

A profile is a small TOML file validated by pydantic (unknown keys are
errors). Shipped profiles live in ``neuroadapt/io/medpc/profiles/``;
:func:`list_profiles` names them. The format (``docs/medpc.md`` has the
full description)::

    name = "neuroadapt-sa"
    description = "..."
    source = "where the letters come from (program source, lab documentation)"
    msn = ["neuroadapt_SA*"]            # MSN patterns the program writes (informative)
    summary = "self_administration"     # or "generic" (the default): what summarize reports

    [scalars]                           # letter -> meaning
    A = "active_presses"

    [arrays]
    E = "event record (time.code)"

    [events]                            # how the time-stamped events are stored
    encoding = "fraction"               # fraction | integer | code_prefix | paired
    array = "E"
    time_unit_s = 0.01                  # seconds per stored time unit
    count_scalar = "Y"                  # scalar holding the number of events (optional)

    [events.codes]
    1 = "active_press"

    [roles]                             # which events the analysis counts as what
    active_press = ["active_press"]

    [session]
    duration_scalar = "S"               # session length (optional)
    timeout_scalar = "H"                # post-infusion timeout (optional)

Encodings (``value`` is one stored number, ``t`` the time in ``time_unit_s``):

``fraction``
    ``value = t + code / 10**code_digits`` (``9544.001``: t = 9544, code 1).
``integer``
    ``value = t * multiplier + code`` (``456600116`` with 10000: t = 45660, code 116).
``code_prefix``
    ``value = code * multiplier + t`` (``30013.710`` with 10000: code 3, t = 13.71).
``paired``
    codes in ``code_array``, times in ``time_array`` (e.g. Y and Z), same index.

With ``intervals = true`` the stored times are inter-event intervals (IRTs)
and are summed; ``relative_to_first = true`` measures times from the first
event; values after a ``sentinels`` value and zero padding after the last
event are not events.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "ROLES",
    "EventSpec",
    "Profile",
    "ProfileError",
    "Roles",
    "SessionSpec",
    "list_profiles",
    "load_profile",
]

#: Event roles the analysis understands.
ROLES: tuple[str, ...] = (
    "active_press",
    "inactive_press",
    "infusion",
    "timeout_start",
    "timeout_end",
    "session_start",
    "session_end",
)
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ProfileError(ValueError):
    """A profile is unknown or invalid; the message is one line naming the field."""


def _letter(value: str | None) -> str | None:
    if value is not None and value not in _LETTERS:
        raise ValueError(f"'{value}' is not a MED-PC variable letter (A-Z)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventSpec(_Strict):
    """How time-stamped events are stored; see the module docstring."""

    encoding: Literal["fraction", "integer", "code_prefix", "paired"]
    array: str | None = None
    code_array: str | None = None
    time_array: str | None = None
    time_unit_s: float = Field(gt=0)
    code_digits: int = Field(default=3, ge=1, le=6)
    multiplier: int = Field(default=10_000, ge=10)
    intervals: bool = False
    relative_to_first: bool = False
    count_scalar: str | None = None
    sentinels: tuple[float, ...] = ()
    codes: dict[int, str] = Field(default_factory=dict)

    @field_validator("array", "code_array", "time_array", "count_scalar")
    @classmethod
    def _check_letters(cls, v: str | None) -> str | None:
        return _letter(v)

    @model_validator(mode="after")
    def _arrays_present(self) -> EventSpec:
        if self.encoding == "paired":
            if self.code_array is None or self.time_array is None:
                raise ValueError("encoding 'paired' needs code_array and time_array")
        elif self.array is None:
            raise ValueError(f"encoding '{self.encoding}' needs array")
        return self

    @property
    def letters(self) -> tuple[str, ...]:
        """The arrays the events are read from."""
        if self.encoding == "paired":
            return (self.code_array, self.time_array)  # type: ignore[return-value]
        return (self.array,)  # type: ignore[return-value]

    def name(self, code: int) -> str:
        """The event name of a code (``code_<n>`` when the profile does not name it)."""
        return self.codes.get(code, f"code_{code}")


class Roles(_Strict):
    """Event names that play each analysis role (several names may share a role)."""

    active_press: tuple[str, ...] = ()
    inactive_press: tuple[str, ...] = ()
    infusion: tuple[str, ...] = ()
    timeout_start: tuple[str, ...] = ()
    timeout_end: tuple[str, ...] = ()
    session_start: tuple[str, ...] = ()
    session_end: tuple[str, ...] = ()

    def of(self, event: str) -> str | None:
        """The role of an event name, or ``None``."""
        for role in ROLES:
            if event in getattr(self, role):
                return role
        return None


class SessionSpec(_Strict):
    """Where session-level settings are stored."""

    duration_scalar: str | None = None
    duration_unit_s: float = Field(default=1.0, gt=0)
    timeout_scalar: str | None = None
    timeout_unit_s: float = Field(default=1.0, gt=0)
    timeout_s: float | None = Field(default=None, ge=0)

    @field_validator("duration_scalar", "timeout_scalar")
    @classmethod
    def _check_letters(cls, v: str | None) -> str | None:
        return _letter(v)


class Profile(_Strict):
    """A MED-PC program's profile: letters, clock, event encoding and roles.

    ``summary`` says what a session summary reports: ``"self_administration"``
    metrics (infusions, presses in timeout, ...; it needs ``[events]``) or
    ``"generic"`` ones (each scalar and array as it is, event counts by name).
    """

    name: str = Field(min_length=1)
    description: str
    source: str
    msn: tuple[str, ...] = ()
    summary: Literal["generic", "self_administration"] = "generic"
    scalars: dict[str, str] = Field(default_factory=dict)
    arrays: dict[str, str] = Field(default_factory=dict)
    events: EventSpec | None = None
    roles: Roles = Field(default_factory=Roles)
    session: SessionSpec = Field(default_factory=SessionSpec)

    @field_validator("scalars", "arrays")
    @classmethod
    def _letter_keys(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            _letter(key)
        return v

    @model_validator(mode="after")
    def _summary_needs_events(self) -> Profile:
        if self.summary == "self_administration" and self.events is None:
            raise ValueError("summary 'self_administration' needs an [events] section")
        return self

    def meaning(self, letter: str) -> str | None:
        """What the profile says a letter holds."""
        return self.scalars.get(letter) or self.arrays.get(letter)


def _profiles_dir():
    return resources.files("neuroadapt.io.medpc") / "profiles"


def list_profiles() -> list[tuple[str, str]]:
    """Shipped profiles as ``(name, description)`` pairs, sorted by name."""
    out = []
    for entry in _profiles_dir().iterdir():
        if entry.name.endswith(".toml"):
            prof = _parse(entry.read_text(encoding="utf-8"), entry.name)
            out.append((prof.name, prof.description))
    return sorted(out)


def _parse(text: str, where: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {where}: not valid TOML ({exc})") from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        raise ProfileError(f"profile {where}: field '{loc}'{shown}: {err['msg']}") from None


def load_profile(name_or_path: str | os.PathLike[str] | Profile) -> Profile:
    """Load a shipped profile by name, or a profile TOML file by path.

    Parameters
    ----------
    name_or_path
        A shipped name (``neuroadapt-sa``), a path to a ``.toml`` file, or a
        :class:`Profile` (returned as is).

    Raises
    ------
    ProfileError
        Unknown name, missing file, or a file that does not validate.

    Examples
    --------
    >>> load_profile("neuroadapt-sa").events.time_unit_s
    0.01
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix == ".toml" or path.exists():
        try:
            return _parse(path.read_text(encoding="utf-8"), str(path))
        except OSError:
            raise ProfileError(f"profile '{path}': no such file") from None
    entry = _profiles_dir() / f"{text_name}.toml"
    if not entry.is_file():
        names = ", ".join(n for n, _ in list_profiles())
        raise ProfileError(f"profile '{text_name}': unknown; shipped profiles are {names}")
    return _parse(entry.read_text(encoding="utf-8"), text_name)
