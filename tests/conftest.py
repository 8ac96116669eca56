"""Shared fixtures: the local demo web (every crawl goes through it as an HTTP proxy)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from noticewatch.demoweb import DemoWeb

# Tests never read the operator's environment or a stray noticewatch.toml.
for _name in list(os.environ):
    if _name.startswith("NOTICEWATCH_") and not _name.startswith("NOTICEWATCH_TEST_"):
        del os.environ[_name]


@pytest.fixture
def demo_web() -> Iterator[DemoWeb]:
    """A fresh demo web per test: tests mutate its world freely."""
    with DemoWeb() as web:
        yield web
