"""``noticewatch serve``: the web app (search, notices, sites, runs, JSON API, metrics)."""

from __future__ import annotations

import click

from noticewatch.commands._common import get_settings


@click.command()
@click.option("--bind", default=None, help="Address to listen on (default: the web_bind setting).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default: web_port).")
@click.pass_context
def serve(ctx: click.Context, bind: str | None, port: int | None) -> None:
    """Serve the archive's web app and JSON API (read-only unless admin_token is set)."""
    import uvicorn

    from noticewatch.web import create_app

    settings = get_settings(ctx)
    host = bind or settings.web_bind
    app = create_app(settings)
    mode = "admin token set" if settings.admin_token else "read-only"
    click.echo(f"serving http://{host}:{port or settings.web_port}/ ({mode}); Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port or settings.web_port, log_level="info", proxy_headers=False)
