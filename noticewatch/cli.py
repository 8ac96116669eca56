"""The ``noticewatch`` command line."""

from __future__ import annotations

import importlib
import sys

import click

# (module, attribute) of every command, in the order `--help` lists them. Explicit on
# purpose: adding a command is adding one line here.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("noticewatch.commands.crawl_cmd", "crawl"),
    ("noticewatch.commands.demo_cmd", "demo"),
    ("noticewatch.commands.demo_cmd", "demo_web"),
    ("noticewatch.commands.export_cmd", "export"),
    ("noticewatch.commands.browse_cmd", "show"),
    ("noticewatch.commands.browse_cmd", "runs"),
    ("noticewatch.commands.db_cmd", "db"),
    ("noticewatch.commands.config_cmd", "config"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", envvar="NOTICEWATCH_CONFIG", type=click.Path(dir_okay=False),
              help="Path of noticewatch.toml (default: ./noticewatch.toml if present).")
@click.version_option(package_name="noticewatch")
@click.pass_context
def root(ctx: click.Context, config_path: str | None) -> None:
    """noticewatch: archive and watch Chinese district government notices."""
    ctx.obj = {"config_path": config_path}


for _module, _attr in COMMANDS:
    root.add_command(getattr(importlib.import_module(_module), _attr))


def main(argv: list[str] | None = None) -> int:
    try:
        root.main(args=argv, prog_name="noticewatch", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
