"""Checking and converting one setting's value to its declared kind.

Values from the TOML file arrive typed; values from environment variables and the
command line arrive as text (``from_string``). Relative paths are made absolute
against a base directory. Every failure is a ValueError with a one-line message.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from noticewatch.config_schema import Option

__all__ = ["convert", "default_value", "validate_cron"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_KIND_WORDS = {
    "str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
    "path": "a path", "list[str]": "a list of strings", "list[path]": "a list of paths",
    "cron": "a cron expression", "url": "a URL",
}


def _type_error(option: Option, value: Any) -> ValueError:
    return ValueError(f"expected {_KIND_WORDS[option.kind]} ({option.kind}), got {type(value).__name__} {value!r}")


def _to_path(value: str, base: Path) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def default_value(option: Option, base: Path) -> Any:
    """An option's default; relative default paths are made absolute against ``base``."""
    if option.kind == "path":
        return _to_path(str(option.default), base)
    if option.kind == "list[path]":
        return tuple(_to_path(str(p), base) for p in option.default)
    return option.default


def _split_list(text: str) -> list[Any]:
    # Environment variables carry lists as "a,b" or as a JSON array (for items with commas).
    if text.strip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON array: {exc.msg}") from None
        if not isinstance(data, list):
            raise ValueError("expected a JSON array")
        return data
    return [part.strip() for part in text.split(",") if part.strip()]


def convert(option: Option, value: Any, *, from_string: bool, base: Path) -> Any:
    """Check and convert one value. ``from_string``: the value comes from an environment
    variable or the command line, where everything is text. Raises ValueError."""
    kind = option.kind
    result: Any
    if kind in ("int", "float", "bool") and from_string and isinstance(value, str):
        text = value.strip()
        try:
            if kind == "bool":
                if text.lower() not in _TRUE | _FALSE:
                    raise ValueError
                result = text.lower() in _TRUE
            else:
                result = int(text) if kind == "int" else float(text)
        except ValueError:
            raise _type_error(option, value) from None
    elif kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(option, value)
        result = value
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(option, value)
        result = value
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(option, value)
        result = float(value)
    elif kind in ("list[str]", "list[path]"):
        items = _split_list(value) if from_string and isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise _type_error(option, value)
        result = tuple(_to_path(i, base) for i in items) if kind == "list[path]" else tuple(items)
    else:
        if not isinstance(value, str):
            raise _type_error(option, value)
        result = _convert_text(option, value, base)
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError(f"expected a finite number, got {value!r}")
    if option.minimum is not None and result < option.minimum:
        raise ValueError(f"must be at least {option.minimum:g}, got {result!r}")
    if option.maximum is not None and result > option.maximum:
        raise ValueError(f"must be at most {option.maximum:g}, got {result!r}")
    if option.check is not None:
        option.check(result)
    return result


def _convert_text(option: Option, value: str, base: Path) -> Any:
    if option.kind == "path":
        if not value.strip():
            raise ValueError("must not be empty")
        return _to_path(value, base)
    if option.kind == "cron":
        validate_cron(value)
        return value
    if option.kind == "url" and not value and option.default:
        raise ValueError("must not be empty")
    if option.kind == "url" and value:
        parts = urlsplit(value)
        if "://" not in value or not parts.scheme:
            example = (option.schemes or ("https",))[0]
            raise ValueError(f"expected a URL like {example}://…, got {value!r}")
        scheme = parts.scheme.split("+", 1)[0]
        if option.schemes and scheme not in option.schemes:
            raise ValueError(f"URL scheme must be one of {', '.join(option.schemes)}, got {parts.scheme!r}")
    return value


def validate_cron(expression: str) -> None:
    from apscheduler.triggers.cron import CronTrigger  # only needed when validating

    if len(expression.split()) != 5:
        raise ValueError(f"expected a 5-field cron expression (minute hour day month weekday), got {expression!r}")
    try:
        CronTrigger.from_crontab(expression)
    except ValueError as exc:
        raise ValueError(f"bad cron expression {expression!r}: {exc}") from None
