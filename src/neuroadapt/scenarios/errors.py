"""One-line errors for scenario files.

Every problem with a scenario (a missing file, TOML syntax, a typo in a key,
a value out of range, a bad regimen) becomes a :class:`ScenarioError` whose
message fits on one line and names the file, the field, the offending value
and what is allowed::

    scenario 'my.toml': field 'cohort.subjects' = -5: must be an integer >= 1 and <= 1000000
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from neuroadapt.scenarios.regimen import RegimenError


class FieldError(ValueError):
    """A check across fields (a model validator) failed; ``field`` is the key it is about.

    ``value`` is the offending value, for a key below the top level (``"cohort.controls"``)
    that the error cannot look up itself.
    """

    def __init__(self, field: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.field, self.value = field, value


__all__ = [
    "MISSING",
    "ScenarioError",
    "describe",
    "from_read_error",
    "from_regimen_error",
    "from_toml_error",
    "from_validation_error",
]


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


#: Stands for the value of a key that is absent.
MISSING: Any = _Missing()


def _show(value: object, limit: int = 80) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ScenarioError(ValueError):
    """A scenario is invalid; the message is one line.

    Parameters
    ----------
    field : str
        Dotted path of the key (``"cohort.subjects"``, ``"treatments[0].start"``).
    value : object
        The offending value (:data:`MISSING` for an absent key).
    allowed : str
        What would have been accepted, as a phrase (``"must be an integer >= 1"``).
    source : str
        The file or shipped-scenario name the scenario came from.
    """

    def __init__(self, field: str, value: object, allowed: str, source: str = "<scenario>"):
        self.field, self.value, self.allowed, self.source = field, value, allowed, source
        allowed = " ".join(str(allowed).split())  # guarantee a single line
        super().__init__(f"scenario '{source}': field '{field}' = {_show(value)}: {allowed}")


def _path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    ann, _ = _strip_optional(annotation)
    if get_origin(ann) is list:
        ann = get_args(ann)[0]
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _walk(
    model: type[BaseModel], loc: Sequence[str | int]
) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """Return (model holding the last key, its FieldInfo) for a pydantic ``loc``."""
    cls: type[BaseModel] | None = model
    holder, info = None, None
    for part in loc:
        if isinstance(part, int):
            continue
        if cls is None or part not in cls.model_fields:
            return cls, None
        holder, info = cls, cls.model_fields[part]
        cls = _model_of(info.annotation)
    return holder, info


def describe(info: FieldInfo) -> str:
    """Describe what a field accepts (``"an integer >= 1 and <= 1000000"``)."""
    ann, optional = _strip_optional(info.annotation)
    model = _model_of(ann)
    if get_origin(ann) is Literal:
        text = "one of " + ", ".join(repr(a) for a in get_args(ann))
    elif get_origin(ann) is list and model is not None:
        text = "an array of tables with keys " + ", ".join(model.model_fields)
    elif model is not None:
        text = "a table with keys " + ", ".join(model.model_fields)
    elif info.description:
        text = info.description
    else:
        text = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
            ann, str(ann)
        )
    ops = {Ge: (">=", "ge"), Gt: (">", "gt"), Le: ("<=", "le"), Lt: ("<", "lt")}
    bounds = [
        f"{sym} {getattr(m, attr)}"
        for m in info.metadata
        for kind, (sym, attr) in ops.items()
        if isinstance(m, kind)
    ]
    if bounds:
        text += " " + " and ".join(bounds)
    return text + (" (or leave the key out)" if optional else "")


def from_toml_error(err: ValueError, text: str, source: str) -> ScenarioError:
    """Convert a ``tomllib.TOMLDecodeError``; the value shown is the offending line."""
    m = re.search(r"line (\d+)", str(err))
    lines = text.splitlines()
    line = lines[int(m.group(1)) - 1].strip() if m and int(m.group(1)) <= len(lines) else ""
    return ScenarioError("(toml syntax)", line, f"invalid TOML: {err}", source)


def from_read_error(err: Exception, path: str) -> ScenarioError:
    """Convert an error reading a scenario file (missing, unreadable, not UTF-8)."""
    if isinstance(err, FileNotFoundError):
        return ScenarioError("file", path, "no such file", path)
    reason = getattr(err, "strerror", None) or str(err)
    return ScenarioError("file", path, f"cannot read: {reason}", path)


def from_regimen_error(err: RegimenError, field: str, source: str) -> ScenarioError:
    """Convert a :class:`RegimenError` found in scenario ``field``."""
    where = f" in {err.segment}" if err.segment else ""
    return ScenarioError(field, err.value, f"{err.field}{where}: expected {err.allowed}", source)


def from_validation_error(
    exc: ValidationError, model: type[BaseModel], source: str
) -> ScenarioError:
    """Convert the first error of a pydantic ``ValidationError`` into a ScenarioError."""
    errors = exc.errors()
    first = errors[0]
    loc, kind = tuple(first["loc"]), first["type"]
    field = _path(loc)
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, RegimenError):
        err = from_regimen_error(cause, field, source)
        return ScenarioError(err.field, err.value, err.allowed + more, source)
    holder, info = _walk(model, loc)
    value = first.get("input", MISSING)
    if isinstance(cause, FieldError):
        # a check across fields names the field it is about
        given = value.get(cause.field, MISSING) if isinstance(value, dict) else MISSING
        given = given if cause.value is None else cause.value
        return ScenarioError(cause.field, given, str(cause) + more, source)
    if kind == "extra_forbidden":
        keys = ", ".join(holder.model_fields) if holder is not None else "(none)"
        allowed = f"unknown key; allowed: {keys}"
        near = _closest(str(loc[-1]), list(holder.model_fields) if holder else [])
        allowed += f" (did you mean '{near}'?)" if near else ""
    elif kind == "missing":
        value = MISSING
        allowed = "required key is missing" + (f"; expected {describe(info)}" if info else "")
    elif isinstance(cause, ValueError):
        allowed = str(cause)
    elif info is not None:
        allowed = "must be " + describe(info)
    else:
        allowed = re.sub(r"\s+", " ", first["msg"])
    return ScenarioError(field, value, allowed + more, source)


def _closest(key: str, keys: list[str]) -> str | None:
    match = difflib.get_close_matches(key, keys, n=1, cutoff=0.7)
    return match[0] if match else None
