"""The files operators copy from deploy/ are well-formed (no container runtime here to build them)."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_file_has_every_role() -> None:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = data["services"]
    assert {"postgres", "redis", "migrate", "scheduler", "worker", "web"} <= set(services)
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] >= 2
    env = services["worker"]["environment"]
    assert env["NOTICEWATCH_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["NOTICEWATCH_REDIS_URL"] == "redis://redis:6379/0"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for role in ("scheduler", "worker", "web"):
        assert "nwdata:/data" in services[role]["volumes"]
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_systemd_units_parse_and_run_noticewatch() -> None:
    units = {p.name: p for p in (DEPLOY / "systemd").iterdir()}
    assert set(units) == {"noticewatch-crawl.service", "noticewatch-crawl.timer",
                          "noticewatch-scheduler.service", "noticewatch-web.service"}
    for name, path in units.items():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(path, encoding="utf-8")
        assert parser.has_section("Unit"), name
        if name.endswith(".service"):
            assert "/bin/noticewatch " in parser["Service"]["ExecStart"]
            assert parser["Service"]["User"] == "noticewatch"
    crawl = configparser.ConfigParser(interpolation=None)
    crawl.read(units["noticewatch-crawl.service"])
    assert crawl["Service"]["Type"] == "oneshot"
    assert crawl["Service"]["ExecStart"].endswith("noticewatch crawl --trigger cron")
    sched = configparser.ConfigParser(interpolation=None)
    sched.read(units["noticewatch-scheduler.service"])
    assert sched["Service"]["KillMode"] == "mixed"  # SIGTERM to the daemon only; it stops its crawls


def test_container_image_runs_as_non_root_with_a_data_volume() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "USER noticewatch" in text and 'VOLUME ["/data"]' in text
    assert (DEPLOY / "Dockerfile").resolve() == (DEPLOY / "Containerfile").resolve()
    cron_lines = [line for line in (DEPLOY / "crontab.example").read_text(encoding="utf-8").splitlines()
                  if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert cron_lines and all(len(line.split(None, 5)) == 6 for line in cron_lines)
