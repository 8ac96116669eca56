"""What keeps archived content inert in the browser, and the admin gate.

* every page carries a strict Content-Security-Policy (no script at all, styles only from
  /static), nosniff, no framing, no referrer;
* notice bodies pass through nh3 again at render time, whatever the crawler stored;
* archived files are sent as downloads, or with ``Content-Security-Policy: sandbox``;
* write endpoints need ``Authorization: Bearer <admin_token>``; no token configured
  means the app is read-only.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import nh3
from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# Types a browser could run script in: never served under their own type.
_ACTIVE_TYPES = re.compile(r"html|xml|svg|javascript|ecmascript|xsl|pdf\+|multipart", re.I)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        headers = response.headers
        # A route that set its own policy (the sandboxed archived copy) keeps it.
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


def sanitize_body(body_html: str | None) -> str:
    """Clean stored body HTML once more; links get rel=noopener noreferrer nofollow."""
    if not body_html:
        return ""
    return nh3.clean(body_html, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


_WEB_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.I)


def safe_href(url: str | None) -> str:
    """``url`` if it is a plain http(s) URL, else ``#``: a stored URL is data from a site,
    and ``javascript:`` (or ``java\tscript:``, ``data:``) must never become a link."""
    return url if url and _WEB_URL.fullmatch(url) else "#"


def safe_download_type(media_type: str | None) -> str:
    if not media_type or _ACTIVE_TYPES.search(media_type) or "/" not in media_type:
        return "application/octet-stream"
    return media_type.split(";")[0].strip()


def content_disposition(name: str | None, fallback: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266/5987).

    The name is data from a government site: path parts, quotes, control characters and
    header-splitting newlines never reach the header.
    """
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    raw = "".join(c for c in raw if unicodedata.category(c)[0] != "C").strip().strip(".") or fallback
    stem, dot, ext = raw.rpartition(".")
    if not dot:
        stem, ext = raw, ""
    ext = ext if ext.isascii() and ext.isalnum() and len(ext) <= 10 else ""
    ascii_stem = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_"
                         for c in unicodedata.normalize("NFKD", stem))
    ascii_stem = re.sub(r"_+", "_", ascii_stem).strip("_") or fallback
    ascii_name = ascii_stem[:140] + (f".{ext}" if ext else "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(raw[:150], safe='')}"


def require_admin(request: Request) -> None:
    """FastAPI dependency for write endpoints."""
    token = request.app.state.settings.admin_token
    if not token:
        raise HTTPException(403, "read-only: no admin_token is configured for this web app")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HTTPException(401, "admin token required: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
