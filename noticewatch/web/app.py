"""``create_app(settings)``: the FastAPI application (pages, /api, /metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from noticewatch.store import Store, open_store
from noticewatch.timefmt import cst
from noticewatch.web.security import SecurityHeaders, safe_href

if TYPE_CHECKING:
    from noticewatch.config import Settings

HERE = Path(__file__).parent


def _templates() -> Jinja2Templates:
    # Autoescape every template, whatever its file name: notice data is untrusted.
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["cst"] = lambda value: cst(value) if value else "—"
    env.filters["day"] = lambda value: (value or "")[:10] or "—"
    env.filters["safe_href"] = safe_href  # links to stored URLs: http(s) only
    return Jinja2Templates(env=env)


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """The web app over ``settings``' archive (opened and migrated unless ``store`` is given)."""
    from noticewatch.web import api, feeds_routes, metrics, pages

    app = FastAPI(
        title="noticewatch",
        summary="Archive of Chinese district government notices: search and browse.",
        version="1",
        # Swagger UI needs inline script, which the page policy forbids; the OpenAPI
        # document itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store or open_store(settings)
    app.state.templates = _templates()
    app.state.metrics_registry = metrics.make_registry(app.state.store.factory)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(feeds_routes.router)
    if store is None:
        app.router.on_shutdown.append(app.state.store.close)
    app.add_exception_handler(StarletteHTTPException, _html_errors)  # type: ignore[arg-type]
    return app


async def _html_errors(request: Request, exc: StarletteHTTPException) -> Response:
    """JSON for /api (FastAPI's shape), a Chinese page for everything else."""
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status_code": exc.status_code, "message": exc.detail, "admin": False},
        status_code=exc.status_code, headers=getattr(exc, "headers", None))


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request; write endpoints commit themselves."""
    with request.app.state.store.factory() as session:
        yield session


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Any:
    context.setdefault("admin", bool(request.app.state.settings.admin_token))
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
