"""Collecting text pieces under a budget."""

from __future__ import annotations

import re

from . import Budget, ExtractResult, Truncated

_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANKS = re.compile(r"\n{3,}")


class Collector:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.parts: list[str] = []
        self.truncated = False

    def add(self, text: str) -> None:
        if self.budget.expired():
            self.truncated = True
            raise Truncated("time cap")
        piece = self.budget.take(text)
        if piece is None:
            self.truncated = True
            raise Truncated("text cap")
        self.parts.append(piece)
        if len(piece) < len(text):
            self.truncated = True
            raise Truncated("text cap")

    def result(self, *, empty_error: str | None = None, note: str | None = None) -> ExtractResult:
        text = normalise("\n".join(self.parts))
        if not text:
            return ExtractResult(None, empty_error or note or "no text found")
        notes = [n for n in (note, "truncated at a cap" if self.truncated else None) if n]
        return ExtractResult(text, "; ".join(notes) or None)


def normalise(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
