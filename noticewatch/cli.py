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
    ctx.obj = {"config_path": config_path}


def main(argv: list[str] | None = None) -> int:
    try:
        root.main(args=argv, prog_name="noticewatch", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
