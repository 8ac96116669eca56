"""The site registry: YAML files validated at load time, unknown keys rejected.

A registry file looks like::

    sites:
      - key: mawei
        name: 福州市马尾区人民政府
        base_url: http://www.mawei.gov.cn/
        family: fujian
        columns:
          - url: http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/
            name: 政策文件

Errors name the file, the site and the key, in one line, so ``noticewatch`` can print
them without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

BUNDLED_REGISTRY = Path(__file__).with_name("sites.yaml")
FAMILIES = ("trs_wcm", "fujian", "hanweb", "kaipu", "gkmlpt", "epoint", "generic", "auto")

_SITE_KEYS = {
    "key": str, "name": str, "base_url": str, "family": str, "area_code": str,
    "verified": bool, "allowed_domains": list, "columns": list, "overrides": dict,
    "schedule": str, "notes": str,
}
_REQUIRED_SITE_KEYS = ("key", "name", "base_url", "family", "columns")
_COLUMN_KEYS = {"url": str, "name": str, "selectors": dict, "family": str, "schedule": str}
_SELECTOR_KEYS = {"list_item", "list_link", "list_date", "title", "date", "source", "body", "attachments", "next_page"}
_OVERRIDE_KEYS = {
    "download_delay", "concurrent_requests_per_domain", "autothrottle", "robots_txt_obey",
    "max_pages_per_column", "max_requests_per_site", "download_timeout", "max_download_size",
    "user_agent", "recheck_days", "retry_times",
}


class RegistryError(ValueError):
    """A registry file is malformed; the message is one line naming file and key."""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    url: str
    name: str
    selectors: Mapping[str, str] = field(default_factory=dict)
    family: str | None = None  # a column may use another family than its site
    schedule: str | None = None


@dataclass(frozen=True, slots=True)
class SiteSpec:
    key: str
    name: str
    base_url: str
    family: str
    columns: tuple[ColumnSpec, ...]
    area_code: str | None = None
    verified: bool = True
    allowed_domains: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    schedule: str | None = None
    source_file: str = ""

    @property
    def domain(self) -> str:
        return (urlsplit(self.base_url).hostname or "").lower()

    def domains(self) -> tuple[str, ...]:
        return self.allowed_domains or (self.domain,)

    def as_row(self) -> dict[str, Any]:
        """The plain dict ``storage.repository.sync_sites`` takes."""
        return {
            "key": self.key, "name": self.name, "base_url": self.base_url, "family": self.family,
            "area_code": self.area_code, "verified": self.verified, "overrides": dict(self.overrides),
            "columns": [
                {"url": c.url, "name": c.name, "hints": {"selectors": dict(c.selectors), "family": c.family}}
                for c in self.columns
            ],
        }


@dataclass(frozen=True, slots=True)
class Registry:
    sites: tuple[SiteSpec, ...]

    def get(self, key: str) -> SiteSpec:
        for site in self.sites:
            if site.key == key:
                return site
        hint = difflib.get_close_matches(key, [s.key for s in self.sites], n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise RegistryError(f"no site {key!r} in the registry{extra}")

    def select(self, keys: Iterable[str] | None) -> list[SiteSpec]:
        keys = list(keys or [])
        return [self.get(k) for k in keys] if keys else list(self.sites)


def _unknown(key: str, allowed: Iterable[str], where: str) -> RegistryError:
    hint = difflib.get_close_matches(key, list(allowed), n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return RegistryError(f"{where}: unknown key {key!r}{extra}")


def _check_types(data: Mapping[str, Any], schema: Mapping[str, type], where: str) -> None:
    for key, value in data.items():
        if key not in schema:
            raise _unknown(key, schema, where)
        expected = schema[key]
        if expected is str and isinstance(value, int | float) and not isinstance(value, bool):
            continue  # area codes and similar are often written unquoted
        if not isinstance(value, expected):
            raise RegistryError(f"{where}: key {key!r} must be {expected.__name__}, got {type(value).__name__}")


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{where}: {url!r} is not an http(s) URL")


def parse_registry(data: Any, *, source: str) -> list[SiteSpec]:
    if data is None:
        return []
    if not isinstance(data, Mapping) or set(data) - {"sites"}:
        extra = sorted(set(data) - {"sites"}) if isinstance(data, Mapping) else []
        if extra:
            raise _unknown(str(extra[0]), ["sites"], source)
        raise RegistryError(f"{source}: the top level must be a mapping with a 'sites' list")
    sites_data = data.get("sites") or []
    if not isinstance(sites_data, list):
        raise RegistryError(f"{source}: 'sites' must be a list")
    sites: list[SiteSpec] = []
    for index, raw in enumerate(sites_data):
        where = f"{source}: sites[{index}]"
        if not isinstance(raw, Mapping):
            raise RegistryError(f"{where}: each site must be a mapping")
        if "key" in raw:
            where = f"{source}: site {raw['key']!r}"
        _check_types(raw, _SITE_KEYS, where)
        for required in _REQUIRED_SITE_KEYS:
            if required not in raw:
                raise RegistryError(f"{where}: missing required key {required!r}")
        family = str(raw["family"])
        if family not in FAMILIES:
            raise _unknown(family, FAMILIES, f"{where}: family")
        _check_url(raw["base_url"], where)
        for key in raw.get("overrides") or {}:
            if key not in _OVERRIDE_KEYS:
                raise _unknown(key, _OVERRIDE_KEYS, f"{where}: overrides")
        columns = []
        for cindex, col in enumerate(raw["columns"]):
            cwhere = f"{where}: columns[{cindex}]"
            if not isinstance(col, Mapping):
                raise RegistryError(f"{cwhere}: each column must be a mapping with 'url' and 'name'")
            _check_types(col, _COLUMN_KEYS, cwhere)
            if "url" not in col:
                raise RegistryError(f"{cwhere}: missing required key 'url'")
            _check_url(col["url"], cwhere)
            for key in col.get("selectors") or {}:
                if key not in _SELECTOR_KEYS:
                    raise _unknown(key, _SELECTOR_KEYS, f"{cwhere}: selectors")
            if col.get("family") and col["family"] not in FAMILIES:
                raise _unknown(col["family"], FAMILIES, f"{cwhere}: family")
            columns.append(ColumnSpec(
                url=col["url"], name=str(col.get("name") or ""), selectors=dict(col.get("selectors") or {}),
                family=col.get("family"), schedule=col.get("schedule"),
            ))
        if not columns:
            raise RegistryError(f"{where}: a site needs at least one column")
        sites.append(SiteSpec(
            key=str(raw["key"]), name=str(raw["name"]), base_url=raw["base_url"], family=family,
            columns=tuple(columns), area_code=str(raw["area_code"]) if raw.get("area_code") else None,
            verified=bool(raw.get("verified", True)),
            allowed_domains=tuple(str(d).lower() for d in raw.get("allowed_domains") or ()),
            overrides=dict(raw.get("overrides") or {}), schedule=raw.get("schedule"), source_file=source,
        ))
    return sites


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader (libyaml's when built in: ~10x faster, which shows with thousands of
    sites) that refuses a key given twice in one mapping. YAML says keys are unique, but
    PyYAML keeps the last one silently: a second ``selectors:`` or ``columns:`` pasted
    under a site would replace the first without a word."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r} (first on line {first.line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load_registry_file(path: Path) -> list[SiteSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: the registry is not UTF-8 text ({exc.reason})") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RegistryError(f"{path}:{line}: malformed YAML: {problem}") from exc
    return parse_registry(data, source=str(path))


def load_registry(paths: Sequence[Path | str] | None = None) -> Registry:
    """Load and merge registry files; the bundled one when none is given.

    A key defined twice is an error: silently preferring one would hide a typo.
    """
    files = [Path(p) for p in paths] if paths else [BUNDLED_REGISTRY]
    sites: list[SiteSpec] = []
    seen: dict[str, str] = {}
    for path in files:
        for site in load_registry_file(path):
            if site.key in seen:
                raise RegistryError(f"{path}: site {site.key!r} is already defined in {seen[site.key]}")
            seen[site.key] = str(path)
            sites.append(site)
    return Registry(tuple(sites))


def registry_from_data(data: Mapping[str, Any], *, source: str = "<memory>") -> Registry:
    return Registry(tuple(parse_registry(data, source=source)))


def registry_rows(sites: Iterable[SiteSpec]) -> list[dict[str, Any]]:
    """Sites as registry rows again: ``parse_registry({"sites": rows})`` gives them back."""
    rows = []
    for s in sites:
        row: dict[str, Any] = {"key": s.key, "name": s.name, "base_url": s.base_url, "family": s.family}
        if s.area_code:
            row["area_code"] = s.area_code
        if not s.verified:
            row["verified"] = False
        if s.allowed_domains:
            row["allowed_domains"] = list(s.allowed_domains)
        if s.overrides:
            row["overrides"] = dict(s.overrides)
        if s.schedule:
            row["schedule"] = s.schedule
        row["columns"] = [
            {k: v for k, v in {"url": c.url, "name": c.name, "selectors": dict(c.selectors) or None,
                               "family": c.family, "schedule": c.schedule}.items() if v}
            for c in s.columns
        ]
        rows.append(row)
    return rows


def dump_registry(sites: Iterable[SiteSpec]) -> str:
    rows = registry_rows(sites)
    return yaml.safe_dump({"sites": rows}, allow_unicode=True, sort_keys=False)
