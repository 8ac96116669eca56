"""Recording a discovered site in a user registry file (``noticewatch sites add``).

The new entry is appended keeping the file's comments and layout where it can, and the
file is replaced atomically only after the whole registry still validates.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from crawler.registry import (
    BUNDLED_REGISTRY,
    ColumnSpec,
    Registry,
    RegistryError,
    SiteSpec,
    load_registry,
)

if TYPE_CHECKING:
    from crawler.discovery import Detection

__all__ = ["AlreadyRegistered", "add_to_registry", "known_column", "refuse_registered", "registry_files",
           "site_row", "suggest_key"]

_HOST_NOISE = {"www", "gov", "cn", "com", "net", "org", "edu"}


def suggest_key(url: str, taken: Collection[str]) -> str:
    """``www.mawei.gov.cn`` -> ``mawei`` (``mawei-2`` ... when taken)."""
    host = (urlsplit(url).hostname or "site").lower()
    labels = [re.sub(r"[^a-z0-9]+", "-", label).strip("-") for label in host.split(".")]
    useful = [label for label in labels if label and label not in _HOST_NOISE]
    base = useful[0] if useful else re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "site"
    if not base[0].isalnum():
        base = f"site-{base}"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


class AlreadyRegistered(RegistryError):
    """The column, host or key is in the registry already; ``field`` says which input
    clashed (``url`` or ``key``) so a command or an API can point at it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def refuse_registered(registry: Registry, url: str, key: str | None = None) -> None:
    """Raise AlreadyRegistered when ``url`` is a known column, its host a known site's,
    or ``key`` taken: adding it would duplicate a site (checked before any fetching)."""
    host = (urlsplit(url).hostname or "").lower()
    for site in registry.sites:
        if any(c.url == url for c in site.columns):
            raise AlreadyRegistered(f"{url} is already a column of site {site.key!r} ({site.source_file})",
                                    field="url")
        if host and host in site.domains():
            raise AlreadyRegistered(f"{host} is already site {site.key!r} in {site.source_file}; "
                                    "add the column to that entry", field="url")
    if key is not None and key in {s.key for s in registry.sites}:
        raise AlreadyRegistered(f"site {key!r} already exists", field="key")


def known_column(registry: Registry, url: str) -> tuple[SiteSpec, ColumnSpec] | None:
    """The registry's site and column for the column page ``url``, if it has one."""
    for site in registry.sites:
        for column in site.columns:
            if column.url == url:
                return site, column
    return None


def registry_files(configured: Sequence[Path], user_file: Path) -> list[Path]:
    """The registry files in force now: ``configured`` (the bundled registry when empty)
    plus ``user_file`` once it exists. A long-running process (the web app) asks again
    after each addition, since its settings were read before the user file appeared."""
    files = [Path(p) for p in configured] or [BUNDLED_REGISTRY]
    if user_file.is_file() and user_file.resolve() not in {p.resolve() for p in files}:
        files.append(user_file)
    return files


def site_row(detection: Detection, *, key: str, family: str, name: str | None = None) -> dict[str, Any]:
    """The registry entry (YAML shape) for a detected column; unverified until reviewed."""
    host = (urlsplit(detection.final_url).hostname or "").lower()
    return {
        "key": key, "name": name or detection.site_name, "base_url": detection.base_url, "family": family,
        "verified": False, "allowed_domains": [host],
        "columns": [{"url": detection.url, "name": detection.column_name}],
    }


def _with_item(text: str, row: Mapping[str, Any]) -> str:
    """``text`` with ``row`` appended to its ``sites`` list, keeping comments and layout
    when the list is a plain block list at the end; else the file re-dumped."""
    item = yaml.safe_dump([dict(row)], allow_unicode=True, sort_keys=False)
    if not text.strip():
        return "# Sites added with `noticewatch sites add`; edit freely (see crawler/sites.yaml).\nsites:\n" + item
    match = re.search(r"(?m)^sites:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*([ \t]*)- ", text)
    if match:
        candidate = text.rstrip("\n") + "\n" + textwrap.indent(item, match.group(1))
        try:
            data = yaml.safe_load(candidate)
            if isinstance(data, dict) and isinstance(data.get("sites"), list) and data["sites"][-1] == dict(row):
                return candidate
        except yaml.YAMLError:
            pass
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise RegistryError("the top level must be a mapping with a 'sites' list")
    data["sites"] = [*(data.get("sites") or []), dict(row)]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def add_to_registry(path: Path, row: Mapping[str, Any], *, others: Sequence[Path] = ()) -> SiteSpec:
    """Append ``row`` to the registry file ``path`` after validating the result together
    with the ``others`` files (unknown keys, duplicate keys); the file is replaced
    atomically, or left alone when anything is wrong (RegistryError)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    candidate = _with_item(text, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(candidate, encoding="utf-8")
    try:
        others = [p for p in others if Path(p).resolve() != path.resolve()]
        registry = load_registry([*others, tmp])
        os.replace(tmp, path)
    except RegistryError as exc:
        raise RegistryError(str(exc).replace(str(tmp), str(path))) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return registry.get(str(row["key"]))
