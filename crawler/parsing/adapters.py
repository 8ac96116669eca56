"""The adapter a column actually uses: family (or ``auto``) + registry selectors + guard.

``adapter_for(family, selectors)`` is what the spider calls. It adds two things to a
family adapter: ``auto`` (the registry allows it: detect the family page by page) and
a guard turning any unexpected parser exception into an ``ExtractionError`` naming the
exception, so one odd page becomes a recorded extraction failure for its URL instead
of a callback traceback and a silently missing notice.
"""

from __future__ import annotations

from collections.abc import Mapping

from .families import ADAPTERS, FamilyAdapter, detect_family, get_adapter
from .selectors import SelectorAdapter
from .types import ExtractionError, ListPage, PageRequest, ParsedNotice


class AutoAdapter:
    """Family ``auto``: each page is parsed by the family that recognises it best."""

    name = "auto"
    label = "Auto-detected per page"

    def detect(self, html: str, url: str) -> float:
        return max(a.detect(html, url) for a in ADAPTERS)

    def _best(self, html: str, url: str) -> FamilyAdapter:
        ranked = detect_family(html, url)
        return get_adapter(ranked[0][0]) if ranked else get_adapter("generic")

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        return self._best(body, url).parse_list(body, url, kind=kind, request=request)

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        return self._best(html, url).parse_notice(html, url)


class GuardedAdapter:
    """Delegates to ``inner``; anything but an ExtractionError becomes one."""

    def __init__(self, inner: FamilyAdapter) -> None:
        self.inner = inner
        self.name = inner.name
        self.label = inner.label

    def detect(self, html: str, url: str) -> float:
        try:
            return self.inner.detect(html, url)
        except Exception:  # detection is a hint: a failing detector just does not claim the page
            return 0.0

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        try:
            return self.inner.parse_list(body, url, kind=kind, request=request)
        except ExtractionError:
            raise
        except Exception as exc:
            raise ExtractionError(
                url, f"{self.name} list parser failed: {type(exc).__name__}: {exc}"
            ) from exc

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        try:
            return self.inner.parse_notice(html, url)
        except ExtractionError:
            raise
        except Exception as exc:
            raise ExtractionError(
                url, f"{self.name} notice parser failed: {type(exc).__name__}: {exc}"
            ) from exc


def adapter_for(family: str, selectors: Mapping[str, str] | None = None) -> FamilyAdapter:
    """The adapter for a column: ``family`` (a registry name or ``auto``), its selectors."""
    base: FamilyAdapter = AutoAdapter() if family == "auto" else get_adapter(family)
    if selectors:
        base = SelectorAdapter(base, selectors)
    return GuardedAdapter(base)
