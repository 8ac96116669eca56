"""Load the effective configuration: defaults < site overrides < file < environment < CLI.

* ``noticewatch.toml``: from ``--config``, ``NOTICEWATCH_CONFIG``, or the working directory.
* ``NOTICEWATCH_<NAME>`` environment variables; ``NOTICEWATCH_<NAME>_FILE`` reads the value
  from a file (secrets mounted by Docker/systemd).
* the command line (``cli`` mapping of setting names).
* per-site registry overrides via ``Settings.for_site`` (below all of the above).

Unknown keys, unknown environment variables, wrong types and malformed files are errors
(urlwatch's users were bitten by silently ignored typos). All problems found are
collected and raised together in one ConfigError, one line each, naming file, key and line.
The schema itself lives in ``noticewatch.config_schema``, the readers of the file,
environment and command-line layers in ``noticewatch.config_layers``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from noticewatch.config_layers import PROCESS_ENV_VARS, Layer, read_cli, read_env, read_file
from noticewatch.config_render import (
    mask_url_password,
    render_markdown_table,
    render_starter_file,
)
from noticewatch.config_schema import (
    OPTIONS,
    PER_SITE_KEYS,
    ConfigError,
    Settings,
    cross_check,
    default_value,
    validate_cron,
)

__all__ = [
    "CONFIG_FILENAME", "ConfigError", "OPTIONS", "PER_SITE_KEYS", "PROCESS_ENV_VARS", "Settings",
    "check_all", "find_config_file", "load_settings", "parse_scrapy_overrides",
    "render_markdown_table", "render_starter_file", "scrapy_settings",
]

CONFIG_FILENAME = "noticewatch.toml"


def find_config_file(config_path: str | os.PathLike[str] | None, env: Mapping[str, str],
                     cwd: Path) -> tuple[Path | None, bool]:
    """The config file to read and whether it was named explicitly (then it must exist)."""
    if config_path:
        return (cwd / Path(config_path)).absolute(), True
    if env.get("NOTICEWATCH_CONFIG"):
        return (cwd / Path(env["NOTICEWATCH_CONFIG"])).absolute(), True
    candidate = cwd / CONFIG_FILENAME
    return (candidate.absolute(), False) if candidate.is_file() else (None, False)


def load_settings(
    *,
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """The effective settings. Raises ConfigError listing every problem found."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else Path(cwd).absolute()
    problems: list[str] = []
    values: dict[str, Any] = {}
    for option in OPTIONS:  # relative default paths are relative to the working directory
        values[option.name] = default_value(option, cwd)
    sources: dict[str, str] = {}
    path, explicit = find_config_file(config_path, env, cwd)
    layers: list[Layer] = []
    if path is not None:
        if path.is_file() or not explicit:
            layers.append(read_file(path, path.parent, problems))
        else:
            problems.append(f"{path}: config file not found")
    layers.append(read_env(env, cwd, problems))
    layers.append(read_cli(cli or {}, cwd, problems))
    for layer in layers:  # lowest precedence first
        for name, (value, source) in layer.items():
            values[name] = value
            sources[name] = source
    if not problems:
        problems.extend(cross_check(values))
    if problems:
        raise ConfigError(problems)
    _add_user_registry(values, cwd)
    return Settings(**values, sources=MappingProxyType(sources))


USER_REGISTRY_NAME = "sites.yaml"


def _add_user_registry(values: dict[str, Any], cwd: Path) -> None:
    """``<data_dir>/sites.yaml`` (written by ``noticewatch sites add``) joins ``registry``.

    It is appended when it exists and is not listed already; when ``registry`` is empty
    the bundled registry goes first, so adding a site never hides the bundled ones.
    """
    data_dir = Path(values["data_dir"])
    user = (data_dir if data_dir.is_absolute() else cwd / data_dir) / USER_REGISTRY_NAME
    listed = tuple(values.get("registry") or ())
    if not user.is_file() or user.resolve() in {p.resolve() for p in listed}:
        return
    if not listed:
        from crawler.registry import BUNDLED_REGISTRY

        listed = (BUNDLED_REGISTRY,)
    values["registry"] = (*listed, user)


# -- Scrapy ---------------------------------------------------------------------------------

def parse_scrapy_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs, as ``scrapy crawl -s`` takes them (values stay strings)."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"-s {pair!r}: expected NAME=VALUE")
        result[name.strip()] = value
    return result


def scrapy_settings(settings: Settings, *, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Scrapy settings for a crawl; ``-s NAME=VALUE`` overrides are applied last.

    Besides Scrapy's own names, every non-secret setting is passed as
    ``NOTICEWATCH_<NAME>`` for our middlewares and pipelines (secrets stay out of the
    crawler process's settings, which Scrapy may log).
    """
    s = settings
    result: dict[str, Any] = {
        "USER_AGENT": s.resolved_user_agent,
        "DOWNLOAD_DELAY": s.download_delay,
        "CONCURRENT_REQUESTS": s.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": s.concurrent_requests_per_domain,
        "AUTOTHROTTLE_ENABLED": s.autothrottle,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": s.autothrottle_target_concurrency,
        "ROBOTSTXT_OBEY": s.robots_txt_obey,
        "ROBOTSTXT_CACHE_HOURS": s.robots_cache_hours,
        "DOWNLOAD_TIMEOUT": s.download_timeout,
        "DOWNLOAD_MAXSIZE": s.max_download_size,
        "DOWNLOAD_WARNSIZE": min(s.max_download_size, 32 * 1024 * 1024),
        "RETRY_ENABLED": s.retry_times > 0,
        "RETRY_TIMES": s.retry_times,
    }
    if s.redis_url:
        result["REDIS_URL"] = s.redis_url  # scrapy-redis reads this name
    for option in OPTIONS:
        if option.secret:
            continue
        value = getattr(s, option.name)
        if option.name == "database_url":
            value = s.resolved_database_url
        elif option.name == "data_dir":
            value = s.data_path
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(v) for v in value]
        result[option.env_name] = value
    result.update(parse_scrapy_overrides(overrides))
    return result


# -- config check -------------------------------------------------------------------------------

RegistryLoader = Callable[[Sequence[Path] | None], Any]


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _registry_problems(settings: Settings, loader: RegistryLoader | None) -> list[str]:
    if loader is None:
        try:
            from crawler.registry import load_registry
        except ImportError as exc:
            return [f"site registry not checked: crawler.registry cannot be imported ({exc})"]
        loader = load_registry
    try:
        registry = loader(list(settings.registry) or None)
    except Exception as exc:  # RegistryError, and anything a broken loader raises
        return [f"site registry: {_one_line(exc)}"]
    problems: list[str] = []
    for site in getattr(registry, "sites", ()):
        key = getattr(site, "key", "?")
        try:
            settings.for_site(getattr(site, "overrides", None) or {}, key)
        except ConfigError as exc:
            problems.extend(exc.problems)
        schedules = [("schedule", getattr(site, "schedule", None))]
        schedules += [(f"column {c.url} schedule", getattr(c, "schedule", None))
                      for c in getattr(site, "columns", ())]
        for what, expression in schedules:
            if expression:
                try:
                    validate_cron(expression)
                except ValueError as exc:
                    problems.append(f"site {key}: {what}: {exc}")
    return problems


def database_problem(url: str, *, timeout: float = 5.0) -> str | None:
    """None when the database answers ``SELECT 1``; else a one-line problem."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                return None
            path = Path(database)
            if not path.exists():
                # Not created yet: fine if noticewatch will be able to create it.
                parent = next(p for p in [path.parent, *path.parent.parents] if p.exists())
                return None if os.access(parent, os.W_OK) else \
                    f"database unreachable: cannot create {path} ({parent} is not writable)"
            # Read-only URI so that checking never creates or modifies anything.
            engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true",
                                   connect_args={"timeout": timeout})
        elif parsed.get_backend_name() == "postgresql":
            engine = create_engine(parsed, connect_args={"connect_timeout": max(1, int(timeout))})
        else:
            engine = create_engine(parsed)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # driver errors vary; report them all the same way
        return f"database unreachable: {mask_url_password(url)}: {_one_line(exc)}"
    return None


def check_all(
    settings_or_none: Settings | None,
    *,
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    registry_loader: RegistryLoader | None = None,
    cwd: Path | None = None,
    check_database: bool = True,
) -> list[str]:
    """Every problem with file, environment, registry and database; one line each."""
    settings = settings_or_none
    if settings is None:
        try:
            settings = load_settings(config_path=config_path, env=env, cwd=cwd)
        except ConfigError as exc:
            # The registry and database settings may be among the broken ones.
            return list(exc.problems)
    problems = _registry_problems(settings, registry_loader)
    if check_database:
        problem = database_problem(settings.resolved_database_url)
        if problem:
            problems.append(problem)
    return problems
