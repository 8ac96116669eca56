"""Family adapters and their explicit, ordered registry (generic last).

Adding a family: write one module with an adapter class, add one line to ADAPTERS.
"""

from __future__ import annotations

from typing import Protocol

from ..types import ListPage, PageRequest, ParsedNotice
from .epoint import EpointAdapter
from .fujian import FujianAdapter
from .generic import GenericAdapter
from .gkmlpt import GkmlptAdapter
from .hanweb import HanwebAdapter
from .kaipu import KaipuAdapter
from .trs_wcm import TrsWcmAdapter


class FamilyAdapter(Protocol):
    name: str
    label: str

    def detect(self, html: str, url: str) -> float: ...

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage: ...

    def parse_notice(self, html: str, url: str) -> ParsedNotice: ...


ADAPTERS: tuple[FamilyAdapter, ...] = (
    TrsWcmAdapter(),
    FujianAdapter(),
    HanwebAdapter(),
    KaipuAdapter(),
    GkmlptAdapter(),
    EpointAdapter(),
    GenericAdapter(),
)


def get_adapter(name: str) -> FamilyAdapter:
    for adapter in ADAPTERS:
        if adapter.name == name:
            return adapter
    valid = ", ".join(a.name for a in ADAPTERS)
    raise KeyError(f"unknown family {name!r}; valid names: {valid}")


def detect_family(html: str, url: str) -> list[tuple[str, float]]:
    """All families with their confidence for a column page, best first (stable)."""
    text = html if isinstance(html, str) else ""
    scored = [(a.name, float(a.detect(text, url or ""))) for a in ADAPTERS]
    return sorted(scored, key=lambda item: -item[1])
