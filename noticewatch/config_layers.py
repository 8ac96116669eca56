"""The three configuration layers above the defaults: the TOML file, the environment
and the command line. Each reader returns ``{setting: (converted value, source)}`` and
appends one line per problem to ``problems`` instead of stopping at the first one.
``noticewatch.config.load_settings`` stacks them.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noticewatch.config_schema import (
    ENV_PREFIX,
    OPTIONS,
    OPTIONS_BY_NAME,
    SECTIONS,
    Option,
    convert,
    did_you_mean,
)

__all__ = ["PROCESS_ENV_PREFIXES", "PROCESS_ENV_VARS", "Layer", "read_cli", "read_env", "read_file"]

# NOTICEWATCH_* variables the project reads outside the settings schema; anything else
# with the prefix must be a setting, so a typo is reported instead of ignored.
PROCESS_ENV_VARS = frozenset({"NOTICEWATCH_CONFIG"})
PROCESS_ENV_PREFIXES = ("NOTICEWATCH_TEST_",)


Layer = dict[str, tuple[Any, str]]  # setting name -> (converted value, source)


def _safe(option: Option, exc: ValueError) -> str:
    # Conversion messages quote the value: never for a secret.
    return f"invalid value for a secret (expected {option.kind})" if option.secret else str(exc)


# -- the config file ------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_.-]+))\s*=""")


def _locate(text: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Line numbers of section headers and keys (tomllib reports none).

    A plain line scan: good enough for the flat layout this file has; a key inside a
    multi-line string could be mistaken for a key, so the first occurrence wins.
    """
    sections: dict[str, int] = {}
    keys: dict[tuple[str, str], int] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace("'", "").replace(" ", "")
            sections.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            name = next(g for g in key.groups() if g)
            section, _, leaf = f"{current}.{name}".lstrip(".").rpartition(".")
            keys.setdefault((section, leaf), number)
    return sections, keys


def read_file(path: Path, base: Path, problems: list[str]) -> Layer:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read the config file: {exc.strerror or exc}")
        return {}
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: the config file is not UTF-8 text ({exc.reason})")
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
        if at:
            problems.append(f"{path}:{at.group(1)}: malformed TOML: {message[:at.start()]}")
        else:
            problems.append(f"{path}: malformed TOML: {message}")
        return {}
    section_lines, key_lines = _locate(text)
    layer: Layer = {}
    for section, table in data.items():
        if section in OPTIONS_BY_NAME and not isinstance(table, dict):  # a key above every [header]
            where = f"{path}:{key_lines.get(('', section), '?')}"
            problems.append(f"{where}: {section} must be inside [{OPTIONS_BY_NAME[section].section}]")
            continue
        if section not in SECTIONS:
            where = f"{path}:{section_lines.get(section) or key_lines.get(('', section), '?')}"
            problems.append(f"{where}: unknown section [{section}]{did_you_mean(section, SECTIONS)}")
            continue
        if not isinstance(table, dict):
            where = f"{path}:{key_lines.get(('', section), '?')}"
            problems.append(f"{where}: [{section}] must be a table")
            continue
        for key, value in table.items():
            line = key_lines.get((section, key)) or section_lines.get(f"{section}.{key}") or "?"
            where = f"{path}:{line}"
            option = OPTIONS_BY_NAME.get(key)
            if option is None:
                hint = did_you_mean(key, [o.name for o in OPTIONS])
                problems.append(f"{where}: unknown key {key!r} in [{section}]{hint}")
            elif option.section != section:
                problems.append(f"{where}: key {key!r} belongs in [{option.section}], not [{section}]")
            else:
                try:
                    layer[key] = (convert(option, value, from_string=False, base=base), f"file:{where}")
                except ValueError as exc:
                    problems.append(f"{where}: [{section}] {key}: {_safe(option, exc)}")
    return layer


# -- environment and command line -------------------------------------------------------------

def read_env(env: Mapping[str, str], cwd: Path, problems: list[str]) -> Layer:
    layer: Layer = {}
    env_names = {o.env_name: o for o in OPTIONS}
    file_names = {f"{o.env_name}_FILE": o for o in OPTIONS}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in PROCESS_ENV_VARS or name.startswith(PROCESS_ENV_PREFIXES):
            continue
        raw = env[name]
        if name in env_names:
            option, source, text = env_names[name], f"env:{name}", raw
            if f"{name}_FILE" in env:
                problems.append(f"{name} and {name}_FILE are both set: use one")
                continue
        elif name in file_names:
            option = file_names[name]
            secret_path = cwd / os.path.expanduser(raw)
            try:
                # Files written by editors and `echo` end in a newline that is not part of the secret.
                text = secret_path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                problems.append(f"{name}: cannot read {secret_path}: {reason}")
                continue
            source = f"env-file:{secret_path}"
        else:
            pool = file_names if name.endswith("_FILE") else env_names
            problems.append(f"unknown environment variable {name}{did_you_mean(name, pool)}")
            continue
        try:
            layer[option.name] = (convert(option, text, from_string=True, base=cwd), source)
        except ValueError as exc:
            problems.append(f"{name}: {option.name}: {_safe(option, exc)}")
    return layer


def read_cli(cli: Mapping[str, Any], cwd: Path, problems: list[str]) -> Layer:
    layer: Layer = {}
    for raw_name, value in cli.items():
        name = raw_name.strip().lower().replace("-", "_")
        option = OPTIONS_BY_NAME.get(name)
        if option is None:
            problems.append(f"command line: unknown setting {raw_name!r}{did_you_mean(name, OPTIONS_BY_NAME)}")
            continue
        try:
            layer[name] = (convert(option, value, from_string=isinstance(value, str), base=cwd), "cli")
        except ValueError as exc:
            problems.append(f"command line: {name}: {_safe(option, exc)}")
    return layer
