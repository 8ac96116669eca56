"""Configuration: schema, precedence, errors, `noticewatch config` commands, docs."""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from noticewatch.commands._common import get_settings
from noticewatch.commands.config_cmd import config
from noticewatch.config import (
    OPTIONS,
    PER_SITE_KEYS,
    ConfigError,
    Settings,
    check_all,
    load_settings,
    parse_scrapy_overrides,
    render_markdown_table,
    render_starter_file,
    scrapy_settings,
)
from noticewatch.config_render import DOC_BEGIN, DOC_END, DOC_PATH


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, toml: str | None = None, **kwargs: Any) -> Settings:
    if toml is not None:
        write(tmp_path / "noticewatch.toml", toml)
    kwargs.setdefault("env", {})
    return load_settings(cwd=tmp_path, **kwargs)


def problems_of(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    assert str(exc.value) == "\n".join(exc.value.problems)
    return exc.value.problems


# -- schema ---------------------------------------------------------------------------------

def test_names_are_unique_and_defaults_documented(tmp_path: Path) -> None:
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    assert all(o.doc for o in OPTIONS)
    s = load(tmp_path)
    assert s.download_delay == 1.0 and s.concurrent_requests_per_domain == 2
    assert s.max_download_size == 100 * 1024 * 1024 and s.schedule_default == "17 * * * *"
    assert s.data_dir == tmp_path / "data" and s.data_path == tmp_path / "data"
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'noticewatch.sqlite3'}"
    assert s.registry == () and s.admin_token == "" and s.redis_url == ""
    assert all(s.source_of(o.name) == "default" for o in OPTIONS)
    with pytest.raises(KeyError, match="did you mean download_delay"):
        s.source_of("download_deley")


def test_per_site_keys_match_the_registry() -> None:
    registry = pytest.importorskip("crawler.registry")
    assert set(registry._OVERRIDE_KEYS) == set(PER_SITE_KEYS)


def test_user_agent_includes_contact(tmp_path: Path) -> None:
    s = load(tmp_path, env={"NOTICEWATCH_CONTACT": "ops@example.org"})
    assert re.fullmatch(r"noticewatch/\S+ \(\+ops@example\.org\)", s.resolved_user_agent)


# -- precedence -------------------------------------------------------------------------------

FILE = """
[crawl]
download_delay = 3.0
retry_times = 5
"""


def test_file_beats_default_and_names_line(tmp_path: Path) -> None:
    s = load(tmp_path, FILE)
    assert s.download_delay == 3.0
    assert s.source_of("download_delay") == f"file:{tmp_path / 'noticewatch.toml'}:3"
    assert s.source_of("retry_times").endswith(":4")


def test_env_beats_file_and_cli_beats_env(tmp_path: Path) -> None:
    env = {"NOTICEWATCH_DOWNLOAD_DELAY": "4.5", "NOTICEWATCH_RETRY_TIMES": "7"}
    s = load(tmp_path, FILE, env=env)
    assert (s.download_delay, s.source_of("download_delay")) == (4.5, "env:NOTICEWATCH_DOWNLOAD_DELAY")
    s = load(tmp_path, FILE, env=env, cli={"download_delay": "6", "retry_times": 9})
    assert (s.download_delay, s.source_of("download_delay")) == (6.0, "cli")
    assert s.retry_times == 9


def test_site_overrides_rank_below_file_env_cli(tmp_path: Path) -> None:
    s = load(tmp_path, FILE, env={"NOTICEWATCH_DOWNLOAD_TIMEOUT": "40"}, cli={"max_pages_per_column": 9})
    site = s.for_site({"download_delay": 10, "download_timeout": 90, "max_pages_per_column": 2,
                       "recheck_days": 30}, "mawei")
    assert site.download_delay == 3.0  # file wins
    assert site.download_timeout == 40  # env wins
    assert site.max_pages_per_column == 9  # cli wins
    assert (site.recheck_days, site.source_of("recheck_days")) == (30, "site:mawei")  # beats default
    assert s.recheck_days == 7  # the base settings are untouched


def test_site_override_errors(tmp_path: Path) -> None:
    s = load(tmp_path)
    with pytest.raises(ConfigError) as exc:
        s.for_site({"download_deley": 1, "database_url": "sqlite://", "retry_times": "many"}, "mawei")
    problems = problems_of(exc)
    assert len(problems) == 3
    assert "site mawei" in problems[0] and "did you mean download_delay" in problems[0]
    assert "cannot be set per site" in problems[1]
    assert "retry_times" in problems[2] and "integer" in problems[2]


def test_config_file_location(tmp_path: Path) -> None:
    other = write(tmp_path / "other.toml", "[web]\nweb_port = 9000\n")
    write(tmp_path / "noticewatch.toml", "[web]\nweb_port = 9001\n")
    assert load(tmp_path).web_port == 9001  # the working directory
    assert load(tmp_path, env={"NOTICEWATCH_CONFIG": str(other)}).web_port == 9000
    assert load(tmp_path, config_path="other.toml", env={"NOTICEWATCH_CONFIG": "nope"}).web_port == 9000
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        load(tmp_path, config_path=tmp_path / "missing.toml")


def test_relative_paths_in_file_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    write(tmp_path / "etc" / "nw.toml", '[storage]\ndata_dir = "../archive"\n[registry]\nregistry = ["sites.yaml"]\n')
    s = load(tmp_path, config_path="etc/nw.toml")
    assert s.data_dir == tmp_path / "archive"
    assert s.registry == (tmp_path / "etc" / "sites.yaml",)
    s = load(tmp_path, env={"NOTICEWATCH_REGISTRY": "a.yaml, /b.yaml"})
    assert s.registry == (tmp_path / "a.yaml", Path("/b.yaml"))


# -- environment ------------------------------------------------------------------------------

def test_env_types(tmp_path: Path) -> None:
    env = {"NOTICEWATCH_AUTOTHROTTLE": "no", "NOTICEWATCH_ALLOW_PRIVATE_NETWORKS": '["10.0.0.0/8", "192.168.1.0/24"]',
           "NOTICEWATCH_MAX_PAGE_SIZE": "1_000", "NOTICEWATCH_CONFIG": "", "NOTICEWATCH_TEST_ANYTHING": "x"}
    s = load(tmp_path, env=env)
    assert s.autothrottle is False and s.max_page_size == 1000
    assert s.allow_private_networks == ("10.0.0.0/8", "192.168.1.0/24")


def test_secret_from_file(tmp_path: Path) -> None:
    write(tmp_path / "pw", "s3cret\n")
    s = load(tmp_path, env={"NOTICEWATCH_SMTP_PASSWORD_FILE": "pw"})
    assert s.smtp_password == "s3cret"
    assert s.source_of("smtp_password") == f"env-file:{tmp_path / 'pw'}"
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, env={"NOTICEWATCH_ADMIN_TOKEN_FILE": "missing",
                            "NOTICEWATCH_SMTP_PASSWORD_FILE": "pw", "NOTICEWATCH_SMTP_PASSWORD": "x"})
    problems = problems_of(exc)
    assert any(p.startswith("NOTICEWATCH_ADMIN_TOKEN_FILE: cannot read") for p in problems)
    assert any("both set" in p for p in problems)


def test_unknown_env_var_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, env={"NOTICEWATCH_DOWNLOAD_DELEY": "2", "NOTICEWATCH_SMTP_PASSWRD_FILE": "x", "HOME": "/"})
    assert problems_of(exc) == [
        "unknown environment variable NOTICEWATCH_DOWNLOAD_DELEY (did you mean NOTICEWATCH_DOWNLOAD_DELAY?)",
        "unknown environment variable NOTICEWATCH_SMTP_PASSWRD_FILE (did you mean NOTICEWATCH_SMTP_PASSWORD_FILE?)",
    ]


# -- bad input ----------------------------------------------------------------------------

def test_unknown_key_names_file_line_and_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, "[crawl]\ndownload_delay = 2\ndownload_deley = 3\n\n[crwal]\nx = 1\n[web]\nsmtp_host = 'h'\n")
    path = tmp_path / "noticewatch.toml"
    assert problems_of(exc) == [
        f"{path}:3: unknown key 'download_deley' in [crawl] (did you mean download_delay?)",
        f"{path}:5: unknown section [crwal] (did you mean crawl?)",
        f"{path}:8: key 'smtp_host' belongs in [alerts], not [web]",
    ]


def test_top_level_key_and_nested_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, "download_delay = 2\n[crawl.extra]\na = 1\n")
    path = tmp_path / "noticewatch.toml"
    assert problems_of(exc) == [
        f"{path}:1: download_delay must be inside [crawl]",
        f"{path}:2: unknown key 'extra' in [crawl]",
    ]


@pytest.mark.parametrize(("toml", "message"), [
    ("[crawl]\ndownload_delay = 'fast'", "[crawl] download_delay: expected a number (float), got str 'fast'"),
    ("[crawl]\nretry_times = 1.5", "[crawl] retry_times: expected an integer (int), got float 1.5"),
    ("[crawl]\nautothrottle = 'yes'", "autothrottle: expected true or false"),
    ("[crawl]\nconcurrent_requests = 0", "concurrent_requests: must be at least 1, got 0"),
    ("[web]\nweb_port = 70000", "web_port: must be at most 65535"),
    ("[crawl]\nallow_private_networks = ['10.0.0.0/33']", "is not an IP network"),
    ("[distributed]\nredis_url = 'http://x'", "URL scheme must be one of redis, rediss, unix"),
    ("[storage]\ndatabase_url = 'nonsense'", "expected a URL like sqlite://"),
])
def test_wrong_types(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, toml)
    (problem,) = problems_of(exc)
    assert problem.startswith(f"{tmp_path / 'noticewatch.toml'}:2: ")
    assert message in problem


def test_wrong_type_from_env_names_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, env={"NOTICEWATCH_WEB_PORT": "eighty", "NOTICEWATCH_ADMIN_TOKEN": "t"},
             cli={"smtp_ssl": "maybe"})
    assert problems_of(exc) == [
        "NOTICEWATCH_WEB_PORT: web_port: expected an integer (int), got str 'eighty'",
        "command line: smtp_ssl: expected true or false (bool), got str 'maybe'",
    ]


@pytest.mark.parametrize("cron", ["* * *", "61 * * * *", "0 25 * * *", "every hour"])
def test_bad_cron(tmp_path: Path, cron: str) -> None:
    with pytest.raises(ConfigError, match=r"noticewatch.toml:2: \[schedule\] schedule_default: .*cron"):
        load(tmp_path, f'[schedule]\nschedule_default = "{cron}"\n')


def test_malformed_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, "[crawl]\ndownload_delay = 1\ndownload_delay = \n")
    (problem,) = problems_of(exc)
    assert problem.startswith(f"{tmp_path / 'noticewatch.toml'}:3: malformed TOML: ")


def test_secret_values_never_in_messages(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, "[web]\nadmin_token = 987654321\n")
    assert "987654321" not in str(exc.value) and "admin_token" in str(exc.value)


def test_cross_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="smtp_ssl and smtp_starttls"):
        load(tmp_path, "[alerts]\nsmtp_ssl = true\nsmtp_starttls = true\n")


# -- starter file and docs ---------------------------------------------------------------------

def test_starter_file_loads_back_as_defaults(tmp_path: Path) -> None:
    defaults = load(tmp_path)
    text = render_starter_file()
    for option in OPTIONS:
        assert f"# {option.name} = " in text and option.env_name in text
    assert load(tmp_path, text) == defaults
    # Uncommenting every key gives a valid file that pins the same values.
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.M)
    assert uncommented.count("\n[") == 7 and "\ndownload_delay = 1.0\n" in uncommented
    s = load(tmp_path, uncommented)
    assert s == defaults
    assert all(s.source_of(o.name).startswith("file:") for o in OPTIONS)


def test_docs_table_is_up_to_date() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    table = text.split(DOC_BEGIN, 1)[1].split(DOC_END, 1)[0].strip("\n") + "\n"
    assert table == render_markdown_table(), "run: python -m noticewatch.config_render"


# -- Scrapy ------------------------------------------------------------------------------------

def test_scrapy_settings_map_and_overrides_last(tmp_path: Path) -> None:
    s = load(tmp_path, FILE, env={"NOTICEWATCH_SMTP_PASSWORD": "pw", "NOTICEWATCH_CONTACT": "me@x.org"})
    values = scrapy_settings(s, overrides=["DOWNLOAD_DELAY=9", "LOG_LEVEL=INFO", "EMPTY="])
    assert values["DOWNLOAD_DELAY"] == "9"  # -s wins, as a string: Scrapy converts types itself
    assert values["RETRY_TIMES"] == 5 and values["RETRY_ENABLED"] is True
    assert values["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2 and values["AUTOTHROTTLE_ENABLED"] is True
    assert values["ROBOTSTXT_OBEY"] is True and values["DOWNLOAD_MAXSIZE"] == 100 * 1024 * 1024
    assert values["USER_AGENT"].endswith("(+me@x.org)") and values["LOG_LEVEL"] == "INFO"
    assert values["EMPTY"] == ""
    assert values["NOTICEWATCH_MAX_PAGES_PER_COLUMN"] == 50
    assert values["NOTICEWATCH_DATABASE_URL"] == s.resolved_database_url
    assert "NOTICEWATCH_SMTP_PASSWORD" not in values and "pw" not in json.dumps(values)


def test_parse_scrapy_overrides() -> None:
    assert parse_scrapy_overrides(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ConfigError, match="'NOEQUALS'"):
        parse_scrapy_overrides(["A=1", "NOEQUALS"])


# -- commands ----------------------------------------------------------------------------------

@click.group()
@click.option("--config", "config_path", envvar="NOTICEWATCH_CONFIG", type=click.Path())
@click.pass_context
def root(ctx: click.Context, config_path: str | None) -> None:
    ctx.obj = {"config_path": config_path}


root.add_command(config)


@root.command()
@click.pass_context
def twice(ctx: click.Context) -> None:
    assert get_settings(ctx) is get_settings(ctx)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("NOTICEWATCH_"):
            monkeypatch.delenv(name)
    return CliRunner()


def test_show_masks_secrets_and_names_sources(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "noticewatch.toml", "[web]\nadmin_token = 'tok-123'\n[crawl]\ndownload_delay = 2.5\n")
    env = {"NOTICEWATCH_SMTP_PASSWORD": "hunter2", "NOTICEWATCH_DATABASE_URL": "postgresql+psycopg://u:dbpw@h/db"}
    result = runner.invoke(root, ["config", "show"], env=env)
    assert result.exit_code == 0, result.output
    for secret in ("tok-123", "hunter2", "dbpw"):
        assert secret not in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "****" in lines["admin_token"] and "noticewatch.toml:2" in lines["admin_token"]
    assert "2.5" in lines["download_delay"] and "noticewatch.toml:4" in lines["download_delay"]
    assert "env:NOTICEWATCH_SMTP_PASSWORD" in lines["smtp_password"]
    assert "u:****@h/db" in lines["database_url"] and lines["web_port"].split()[-1] == "default"
    result = runner.invoke(root, ["config", "show", "--json"], env=env)
    rows = {r["key"]: r for r in json.loads(result.output)}
    assert rows["smtp_password"]["value"] == "****" and rows["download_delay"]["value"] == 2.5
    assert rows["admin_token"]["env"] == "NOTICEWATCH_ADMIN_TOKEN"


def test_bad_config_is_a_one_line_click_error(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "noticewatch.toml", "[crawl]\ndownload_deley = 2\n")
    result = runner.invoke(root, ["config", "show"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'noticewatch.toml'}:2: unknown key 'download_deley' in [crawl] "
        "(did you mean download_delay?)"]
    write(tmp_path / "noticewatch.toml", "")
    assert runner.invoke(root, ["twice"]).exit_code == 0


def _fake_registry(monkeypatch: pytest.MonkeyPatch, sites: list[Any], error: str | None = None) -> None:
    module = types.ModuleType("crawler.registry")

    def load_registry(paths: Any = None) -> Any:
        if error:
            raise ValueError(error)
        return types.SimpleNamespace(sites=tuple(sites))

    module.load_registry = load_registry  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crawler.registry", module)


def test_check_good_file(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = types.SimpleNamespace(key="mawei", overrides={"download_delay": 5}, schedule="0 6 * * *", columns=())
    _fake_registry(monkeypatch, [site])
    write(tmp_path / "noticewatch.toml", f"[storage]\ndatabase_url = 'sqlite:///{tmp_path}/db.sqlite3'\n")
    result = runner.invoke(root, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.output


def test_check_reports_one_line_per_problem(runner: CliRunner, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    column = types.SimpleNamespace(url="http://x.gov.cn/a/", schedule="99 * * * *")
    site = types.SimpleNamespace(key="mawei", overrides={"download_delay": "slow"}, schedule=None, columns=(column,))
    _fake_registry(monkeypatch, [site])
    write(tmp_path / "noticewatch.toml", "[storage]\ndatabase_url = 'postgresql+psycopg://u:pw@127.0.0.1:1/x'\n")
    result = runner.invoke(root, ["config", "check"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("site mawei: overrides: download_delay: expected a number")
    assert lines[1].startswith("site mawei: column http://x.gov.cn/a/ schedule: ")
    assert lines[2].startswith("database unreachable: postgresql+psycopg://u:****@127.0.0.1:1/x: ")
    # Config problems are reported without going further.
    write(tmp_path / "noticewatch.toml", "[crawl]\nretry_times = 'x'\n[schedule]\nverify_schedule = '* *'\n")
    result = runner.invoke(root, ["config", "check"], env={"NOTICEWATCH_WEBPORT": "1"})
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 3


def test_check_registry_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_registry(monkeypatch, [], error="sites.yaml: site 'x': unknown key 'colums'")
    problems = check_all(None, env={}, cwd=tmp_path, check_database=False)
    assert problems == ["site registry: sites.yaml: site 'x': unknown key 'colums'"]


def test_check_with_real_bundled_registry(tmp_path: Path) -> None:
    pytest.importorskip("crawler.registry")
    assert check_all(None, env={}, cwd=tmp_path) == []


def test_init_writes_and_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    defaults = load_settings(cwd=tmp_path, env={})
    result = runner.invoke(root, ["config", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "noticewatch.toml").read_text(encoding="utf-8") == render_starter_file()
    assert load_settings(cwd=tmp_path, env={}) == defaults
    result = runner.invoke(root, ["config", "init"])
    assert result.exit_code == 1 and "--force" in result.output
    assert runner.invoke(root, ["config", "init", "--force"]).exit_code == 0
    assert runner.invoke(root, ["config", "init", "sub/other.toml"]).exit_code == 0
    assert (tmp_path / "sub" / "other.toml").exists()
