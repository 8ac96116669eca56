"""The archivists' web app: server-rendered pages, a JSON API and Prometheus metrics."""

from __future__ import annotations

from noticewatch.web.app import create_app

__all__ = ["create_app"]
