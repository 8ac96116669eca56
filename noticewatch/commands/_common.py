"""Helpers shared by the subcommands."""

from __future__ import annotations

import os
from typing import Any

import click

from noticewatch.config import ConfigError, Settings, load_settings


class ConfigProblem(click.ClickException):
    """Invalid configuration: printed without a traceback, exit status 2 (usage error)."""

    exit_code = 2


def get_settings(ctx: click.Context) -> Settings:
    """The effective settings for this invocation, loaded once and cached on ``ctx.obj``.

    The root group stores ``ctx.obj = {"config_path": ...}``; a command may add
    ``ctx.obj["settings_overrides"]`` (setting name -> value) before the first call to
    give command-line values the highest precedence.
    """
    obj: dict[str, Any] = ctx.ensure_object(dict)
    cached = obj.get("settings")
    if isinstance(cached, Settings):
        return cached
    try:
        settings = load_settings(config_path=obj.get("config_path"), env=os.environ,
                                 cli=obj.get("settings_overrides") or {})
    except ConfigError as exc:
        # One line per problem; click prefixes the first with "Error: ".
        raise ConfigProblem(str(exc)) from exc
    obj["settings"] = settings
    return settings
