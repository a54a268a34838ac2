"""Scenario files: read a scenario from TOML (a file, text or a shipped name) and write it back.

:func:`dump_scenario` writes TOML that :func:`loads_scenario` reads back equal,
so the resolved scenario a run records is itself a scenario file.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from neuroadapt.scenarios.errors import ScenarioError, from_read_error, from_toml_error
from neuroadapt.scenarios.schema import Scenario, validate_scenario

__all__ = ["dump_scenario", "list_shipped", "load_scenario", "loads_scenario"]


# ----------------------------------------------------------------- loading
def _shipped_dir() -> Any:
    return resources.files("neuroadapt.scenarios").joinpath("shipped")


def _shipped_names() -> list[str]:
    return sorted(p.name[:-5] for p in _shipped_dir().iterdir() if p.name.endswith(".toml"))


def loads_scenario(text: str, source: str = "<string>", name: str | None = None) -> Scenario:
    """Parse and validate a scenario from TOML text.

    Parameters
    ----------
    text : str
        TOML document.
    source : str
        Where the text came from (used in error messages).
    name : str, optional
        Name used when the document has no ``name`` key.

    Raises
    ------
    ScenarioError
        On TOML syntax errors and invalid or unknown keys.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise from_toml_error(err, text, source) from None
    if name is not None:
        data.setdefault("name", name)
    return validate_scenario(data, source)


def load_scenario(path_or_name: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a TOML file or by the name of a shipped scenario.

    Parameters
    ----------
    path_or_name : str or path-like
        A path to a ``.toml`` file, or a shipped name such as ``"default"``
        (see :func:`list_shipped`). A file without a ``name`` key is named
        after its stem.

    Raises
    ------
    ScenarioError
        One-line message for a missing file, TOML syntax or an invalid field.
    """
    text_arg = os.fspath(path_or_name)
    as_path = Path(text_arg)
    is_path = (
        not isinstance(path_or_name, str)
        or text_arg.endswith(".toml")
        or os.sep in text_arg
        or "/" in text_arg
        or as_path.is_file()
    )
    if not is_path:
        resource = _shipped_dir().joinpath(f"{text_arg}.toml")
        if not resource.is_file():
            raise ScenarioError(
                "scenario",
                text_arg,
                "not a file and not a shipped scenario; shipped: " + ", ".join(_shipped_names()),
                text_arg,
            )
        return loads_scenario(resource.read_text(encoding="utf-8"), text_arg, text_arg)
    try:
        text = as_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise from_read_error(err, text_arg) from None
    return loads_scenario(text, text_arg, as_path.stem)


def list_shipped() -> list[tuple[str, str]]:
    """Return ``(name, description)`` of every shipped scenario, sorted by name."""
    return [(name, load_scenario(name).description) for name in _shipped_names()]


# ----------------------------------------------------------------- writing
def _toml_str(text: str) -> str:
    escapes = {
        "\\": "\\\\",
        '"': '\\"',
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\f": "\\f",
        "\r": "\\r",
    }
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_dumps(data: dict[str, Any], prefix: str = "") -> str:
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}"
        for k, v in data.items()
        if not isinstance(v, dict) and not _is_table_array(v)
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    for k, v in data.items():
        name = f"{prefix}{_toml_key(k)}"
        if isinstance(v, dict):
            text += f"\n[{name}]\n" + _toml_dumps(v, name + ".")
        elif _is_table_array(v):
            for item in v:
                text += f"\n[[{name}]]\n" + _toml_dumps(item, name + ".")
    return text


def dump_scenario(scenario: Scenario) -> str:
    """Write a scenario as TOML text that :func:`loads_scenario` reads back equal."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    if not data.get("parameters"):
        data.pop("parameters", None)  # no overrides: no empty table
    return _toml_dumps(data)
