"""``noticewatch config``: show, check and initialise the configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from noticewatch.commands._common import get_settings
from noticewatch.config import CONFIG_FILENAME, OPTIONS, check_all, render_starter_file
from noticewatch.config_render import display_value, json_value, mask_url_password


@click.group()
def config() -> None:
    """Show, check and initialise the configuration (noticewatch.toml)."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Print the effective configuration and where each value came from (secrets masked)."""
    settings = get_settings(ctx)
    if as_json:
        rows: list[dict[str, Any]] = [
            {"key": o.name, "section": o.section, "value": json_value(o, getattr(settings, o.name)),
             "source": settings.source_of(o.name), "env": o.env_name}
            for o in OPTIONS
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = [(o.name, display_value(o, getattr(settings, o.name)), settings.source_of(o.name))
             for o in OPTIONS]
    width_key = max(len(r[0]) for r in table)
    width_value = min(60, max(len(r[1]) for r in table))
    click.echo(f"{'KEY':<{width_key}}  {'VALUE':<{width_value}}  SOURCE")
    for key, value, source in table:
        click.echo(f"{key:<{width_key}}  {value:<{width_value}}  {source}")
    # The derived values operators most often wonder about.
    click.echo("")
    click.echo(f"effective database URL: {mask_url_password(settings.resolved_database_url)}")
    click.echo(f"effective User-Agent:   {settings.resolved_user_agent}")


@config.command()
@click.option("--no-database", is_flag=True, help="Do not try to connect to the database.")
@click.pass_context
def check(ctx: click.Context, no_database: bool) -> None:
    """Validate the config file, NOTICEWATCH_* variables, site registry and database."""
    obj = ctx.ensure_object(dict)
    problems = check_all(None, config_path=obj.get("config_path"), env=os.environ,
                         check_database=not no_database)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        ctx.exit(1)
    click.echo("configuration OK")


@config.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, path: Path | None, force: bool) -> None:
    """Write a commented starter noticewatch.toml (default: --config or ./noticewatch.toml)."""
    obj = ctx.ensure_object(dict)
    target = path or Path(obj.get("config_path") or CONFIG_FILENAME)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_starter_file(), encoding="utf-8")
    click.echo(f"wrote {target}")
