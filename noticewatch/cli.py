"""The ``noticewatch`` command line."""

from __future__ import annotations

import importlib
import sys

import click

# (module, attribute) of every command, in the order `--help` lists them. Explicit on
# purpose: adding a command is adding one line here. Modules are imported only when
# their command runs, so `noticewatch crawl` does not pay for the web app's imports.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("noticewatch.commands.crawl_cmd", "crawl"),
    ("noticewatch.commands.schedule_cmd", "schedule"),
    ("noticewatch.commands.worker_cmd", "worker"),
    ("noticewatch.commands.demo_cmd", "demo"),
    ("noticewatch.commands.demo_cmd", "demo_web"),
    ("noticewatch.commands.export_cmd", "export"),
    ("noticewatch.commands.search_cmd", "search"),
    ("noticewatch.commands.serve_cmd", "serve"),
    ("noticewatch.commands.verify_cmd", "verify"),
    ("noticewatch.commands.browse_cmd", "show"),
    ("noticewatch.commands.browse_cmd", "runs"),
    ("noticewatch.commands.db_cmd", "db"),
    ("noticewatch.commands.config_cmd", "config"),
    ("noticewatch.commands.sites_cmd", "sites"),
    ("noticewatch.commands.subscriptions_cmd", "subscriptions"),
    ("noticewatch.commands.alerts_cmd", "alerts"),
)


def _command_name(attr: str) -> str:
    return attr.replace("_", "-")


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [_command_name(attr) for _module, attr in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module, attr in COMMANDS:
            if _command_name(attr) == cmd_name:
                command = getattr(importlib.import_module(module), attr)
                assert isinstance(command, click.Command)
                return command
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", envvar="NOTICEWATCH_CONFIG", type=click.Path(dir_okay=False),
              help="Path of noticewatch.toml (default: ./noticewatch.toml if present).")
@click.version_option(package_name="noticewatch")
@click.pass_context
def root(ctx: click.Context, config_path: str | None) -> None:
    """noticewatch: archive and watch Chinese district government notices."""
    # ensure_object: main() passes in the dict, so it can read the settings afterwards.
    ctx.ensure_object(dict)["config_path"] = config_path


def _masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (an unparsable URL is still worth naming, without a password)
        return url.split("@", 1)[-1]


def describe_database_error(exc: Exception, url: str | None) -> str:
    """One line for a database error that reached the top: unreachable, locked, or other."""
    from sqlalchemy.exc import DBAPIError

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else exc.__class__.__name__
    where = f"{_masked_url(url)}: " if url else ""
    if "database is locked" in first or "database table is locked" in first:
        return (f"database is locked: {where}another process held its write lock past the busy "
                "timeout; nothing was changed, try again")
    if isinstance(exc, DBAPIError) and exc.statement is None:  # failed while connecting
        return f"database unreachable: {where}{first}"
    return f"database error: {where}{first}"


def main(argv: list[str] | None = None) -> int:
    shared: dict[str, object] = {}
    try:
        root.main(args=argv, prog_name="noticewatch", standalone_mode=True, obj=shared)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        # Imported only now: `noticewatch crawl` starts Scrapy's process before it
        # imports SQLAlchemy (a database error has imported it already).
        from sqlalchemy.exc import DBAPIError

        if not isinstance(exc, DBAPIError):
            raise
        # Unreachable or locked databases are the operator's to fix: one line, no traceback.
        settings = shared.get("settings")
        url = getattr(settings, "resolved_database_url", None)
        click.echo(f"Error: {describe_database_error(exc, url)}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
