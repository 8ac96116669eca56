"""The declarative settings schema: one typed field per setting, validated at load time.

Every setting has a globally unique flat name. It is the attribute on ``Settings``,
the key inside its TOML section and, upper-cased, the suffix of its environment
variable (``download_delay`` -> ``[crawl] download_delay`` -> ``NOTICEWATCH_DOWNLOAD_DELAY``).
Keeping names unique across sections is what lets environment variables stay flat.

The schema lives on the dataclass fields themselves (``_opt`` stores an ``Option`` in the
field metadata) so the typed attributes and the documentation cannot drift apart.
Loading (file, environment, command line) lives in ``noticewatch.config``, converting
one value in ``noticewatch.config_convert``.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

# Re-exported: conversion used to live here.
from noticewatch.config_convert import convert
from noticewatch.config_convert import default_value as default_value
from noticewatch.config_convert import validate_cron as validate_cron

Kind = Literal["str", "int", "float", "bool", "path", "list[str]", "list[path]", "cron", "url"]

ENV_PREFIX = "NOTICEWATCH_"
SECTIONS = ("storage", "registry", "crawl", "schedule", "alerts", "web", "distributed")
MiB = 1024 * 1024

try:
    VERSION = version("noticewatch")
except PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "0.0.0"


class ConfigError(Exception):
    """Invalid configuration; ``str()`` is one line per problem, ready to print."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Option:
    name: str
    section: str
    kind: Kind
    default: Any
    doc: str
    secret: bool = False
    per_site: bool = False  # may appear in a registry site's ``overrides``
    minimum: float | None = None
    maximum: float | None = None
    schemes: tuple[str, ...] = ()  # for kind "url": accepted schemes (before any "+driver")
    check: Callable[[Any], None] | None = None  # extra validation; raises ValueError

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _opt(section: str, kind: Kind, default: Any, doc: str, **extra: Any) -> Any:
    """A dataclass field carrying its Option (the name is filled in from the field)."""
    option = Option(name="", section=section, kind=kind, default=default, doc=doc, **extra)
    return field(default=default, metadata={"option": option})


def _check_cidrs(values: tuple[str, ...]) -> None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network in CIDR notation (e.g. 10.0.0.0/8)") from None


def _check_contact(value: str) -> None:
    # The contact ends up inside the User-Agent header: a newline would split the header.
    if any(c in value for c in "\r\n()"):
        raise ValueError("must be one line without parentheses (it goes into the User-Agent)")


@dataclass(frozen=True)
class Settings:
    """The effective configuration: one typed attribute per setting."""

    # [storage]
    database_url: str = _opt(
        "storage", "url", "",
        "SQLAlchemy database URL (sqlite:///… or postgresql+psycopg://…). Empty: a SQLite "
        "file noticewatch.sqlite3 in data_dir.", schemes=("sqlite", "postgresql"))
    data_dir: Path = _opt(
        "storage", "path", Path("data"),
        "Directory for the SQLite database, WARC files and attachment blobs. Relative paths "
        "in the config file are relative to that file.")
    # [registry]
    registry: tuple[Path, ...] = _opt(
        "registry", "list[path]", (),
        "Site registry YAML files. Empty: the registry bundled with noticewatch. "
        "<data_dir>/sites.yaml (written by `noticewatch sites add`) is appended when it exists.")
    # [crawl]
    user_agent: str = _opt(
        "crawl", "str", "",
        "User-Agent header. Empty: noticewatch/<version> (+contact).", per_site=True)
    contact: str = _opt(
        "crawl", "str", "",
        "E-mail address or URL where site operators can reach you; put in the User-Agent.",
        check=_check_contact)
    download_delay: float = _opt(
        "crawl", "float", 1.0, "Seconds between requests to the same site.", per_site=True, minimum=0)
    concurrent_requests: int = _opt(
        "crawl", "int", 64, "Requests in flight across all sites.", minimum=1)
    concurrent_requests_per_domain: int = _opt(
        "crawl", "int", 2, "Requests in flight per domain.", per_site=True, minimum=1)
    autothrottle: bool = _opt(
        "crawl", "bool", True, "Adapt the delay to the server's response times (Scrapy AutoThrottle).",
        per_site=True)
    autothrottle_target_concurrency: float = _opt(
        "crawl", "float", 1.0, "AutoThrottle's target of parallel requests per server.", minimum=0.1)
    robots_txt_obey: bool = _opt(
        "crawl", "bool", True, "Obey robots.txt.", per_site=True)
    robots_cache_hours: float = _opt(
        "crawl", "float", 24.0, "Hours a fetched robots.txt is reused by later crawls (cached in "
        "`<data_dir>/cache/robots/`; RFC 9309 allows at most 24; 0 fetches it on every crawl). 5xx answers "
        "and network errors are never cached.", minimum=0, maximum=24)
    download_timeout: int = _opt(
        "crawl", "int", 30, "Seconds before a request times out.", per_site=True, minimum=1)
    max_download_size: int = _opt(
        "crawl", "int", 100 * MiB, "Largest response or attachment downloaded, in bytes.",
        per_site=True, minimum=1)
    max_page_size: int = _opt(
        "crawl", "int", 10 * MiB, "Largest HTML page parsed, in bytes.", minimum=1)
    max_decompressed_size: int = _opt(
        "crawl", "int", 200 * MiB,
        "Largest decompressed size of a compressed response or archive, in bytes.", minimum=1)
    max_pages_per_column: int = _opt(
        "crawl", "int", 50, "List pages followed per column and crawl.", per_site=True, minimum=1)
    max_requests_per_site: int = _opt(
        "crawl", "int", 5000, "Requests per site and crawl.", per_site=True, minimum=1)
    retry_times: int = _opt(
        "crawl", "int", 3, "Retries of a failed request (0 disables retrying).", per_site=True, minimum=0)
    retry_backoff_base: float = _opt(
        "crawl", "float", 2.0, "Seconds before the first retry; doubles for each further retry.",
        minimum=0)
    retry_backoff_max: float = _opt(
        "crawl", "float", 300.0, "Longest wait between retries, in seconds.", minimum=0)
    recheck_days: int = _opt(
        "crawl", "int", 7,
        "Re-fetch notices published within this many days to catch quiet edits.",
        per_site=True, minimum=0)
    list_overlap: int = _opt(
        "crawl", "int", 1,
        "List pages read past the last known notice, to catch late insertions.", minimum=0)
    allow_private_networks: tuple[str, ...] = _opt(
        "crawl", "list[str]", (),
        "CIDR networks the crawler may reach despite the guard against private addresses.",
        check=_check_cidrs)
    blocked_backoff_hours: float = _opt(
        "crawl", "float", 6.0, "Hours to leave a site alone after it blocked us.", minimum=0)
    # [schedule]
    schedule_default: str = _opt(
        "schedule", "cron", "17 * * * *", "When sites are crawled (5-field cron expression).")
    schedule_jitter: int = _opt(
        "schedule", "int", 300, "Random delay added to each scheduled crawl, in seconds.", minimum=0)
    verify_schedule: str = _opt(
        "schedule", "cron", "30 3 * * *", "When the archive is verified (5-field cron expression).")
    # [alerts]
    smtp_host: str = _opt("alerts", "str", "", "SMTP server for e-mail alerts. Empty: no e-mail.")
    smtp_port: int = _opt("alerts", "int", 25, "SMTP port.", minimum=1, maximum=65535)
    smtp_user: str = _opt("alerts", "str", "", "SMTP user name. Empty: no authentication.")
    smtp_password: str = _opt("alerts", "str", "", "SMTP password.", secret=True)
    smtp_from: str = _opt("alerts", "str", "", "Sender address of alert e-mails.")
    smtp_starttls: bool = _opt("alerts", "bool", False, "Upgrade the SMTP connection with STARTTLS.")
    smtp_ssl: bool = _opt("alerts", "bool", False, "Connect to the SMTP server over TLS (port 465).")
    alert_max_attempts: int = _opt(
        "alerts", "int", 8, "Delivery attempts per alert before it is given up.", minimum=1)
    alert_backoff_base: float = _opt(
        "alerts", "float", 60.0, "Seconds before the first redelivery; doubles each attempt.",
        minimum=0)
    public_base_url: str = _opt(
        "alerts", "url", "http://127.0.0.1:8080",
        "Base URL of the web app, used in alerts to link to the archived copy.",
        schemes=("http", "https"))
    webhook_timeout: float = _opt("alerts", "float", 10.0, "Seconds before a webhook call times out.",
                                  minimum=0.1)
    # [web]
    web_bind: str = _opt("web", "str", "127.0.0.1", "Address the web app listens on.")
    web_port: int = _opt("web", "int", 8080, "Port the web app listens on.", minimum=1, maximum=65535)
    admin_token: str = _opt(
        "web", "str", "", "Token for the web app's admin actions. Empty: the web app is read-only.",
        secret=True)
    # [distributed]
    redis_url: str = _opt(
        "distributed", "url", "",
        "Redis URL shared by crawl workers (redis://host:6379/0). Empty: a single machine.",
        schemes=("redis", "rediss", "unix"))

    # Where each value came from; not a setting, excluded from equality.
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def source_of(self, name: str) -> str:
        """``default``, ``file:/path:LINE``, ``env:NOTICEWATCH_X``, ``env-file:/path``, ``cli``
        or ``site:<site key>``."""
        option_named(name)
        return self.sources.get(name, "default")

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else Path.cwd() / self.data_dir

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        from storage.db import default_sqlite_url  # one definition of where the file lives

        return default_sqlite_url(self.data_path)

    @property
    def resolved_user_agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        return f"noticewatch/{VERSION} (+{self.contact})" if self.contact else f"noticewatch/{VERSION}"

    def for_site(self, overrides: Mapping[str, Any], site_key: str) -> Settings:
        """Apply a registry site's ``overrides``.

        They rank below the config file, environment and command line: a value applies
        only where the setting is still at its default. Raises ConfigError.
        """
        problems: list[str] = []
        changes: dict[str, Any] = {}
        sources = dict(self.sources)
        for key, raw in overrides.items():
            option = OPTIONS_BY_NAME.get(key)
            if option is None:
                problems.append(f"site {site_key}: overrides: unknown setting {key!r}{did_you_mean(key, OPTIONS_BY_NAME)}")
                continue
            if not option.per_site:
                problems.append(f"site {site_key}: overrides: {key} cannot be set per site")
                continue
            try:
                value = convert(option, raw, from_string=False, base=Path.cwd())
            except ValueError as exc:
                problems.append(f"site {site_key}: overrides: {key}: {exc}")
                continue
            if self.source_of(key) == "default":
                changes[key] = value
                sources[key] = f"site:{site_key}"
        if problems:
            raise ConfigError(problems)
        return dataclasses.replace(self, sources=MappingProxyType(sources), **changes)


OPTIONS: tuple[Option, ...] = tuple(
    dataclasses.replace(f.metadata["option"], name=f.name)
    for f in dataclasses.fields(Settings)
    if "option" in f.metadata
)
OPTIONS_BY_NAME: Mapping[str, Option] = MappingProxyType({o.name: o for o in OPTIONS})
PER_SITE_KEYS: frozenset[str] = frozenset(o.name for o in OPTIONS if o.per_site)


def did_you_mean(word: str, candidates: Any) -> str:
    hint = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {hint[0]}?)" if hint else ""


def option_named(name: str) -> Option:
    try:
        return OPTIONS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown setting {name!r}{did_you_mean(name, OPTIONS_BY_NAME)}") from None


def cross_check(values: Mapping[str, Any]) -> list[str]:
    """Problems that involve more than one setting."""
    problems = []
    if values["smtp_ssl"] and values["smtp_starttls"]:
        problems.append("smtp_ssl and smtp_starttls are both true: choose one (ssl for port 465, starttls for 587)")
    if values["retry_backoff_base"] > values["retry_backoff_max"]:
        problems.append("retry_backoff_base is larger than retry_backoff_max")
    return problems
