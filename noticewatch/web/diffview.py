"""Side-by-side diff rows for the version history page (rendered by Jinja, escaped there)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")


@dataclass
class Segment:
    text: str
    changed: bool


@dataclass
class DiffRow:
    tag: str  # equal, replace, delete, insert
    left_no: int | None
    right_no: int | None
    left: list[Segment] = field(default_factory=list)
    right: list[Segment] = field(default_factory=list)


def split_lines(text: str | None) -> list[str]:
    """Lines, with long lines cut after Chinese sentence ends so a diff stays readable."""
    pieces: list[str] = []
    for line in (text or "").splitlines():
        pieces.extend(p for p in _SENTENCE_END.split(line.strip()) if p.strip())
    return pieces


def _inline(a: str, b: str) -> tuple[list[Segment], list[Segment]]:
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if a[i1:i2]:
            left.append(Segment(a[i1:i2], tag != "equal"))
        if b[j1:j2]:
            right.append(Segment(b[j1:j2], tag != "equal"))
    return left, right


def side_by_side(old: str | None, new: str | None, context: int | None = None) -> list[DiffRow]:
    a, b = split_lines(old), split_lines(new)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append(DiffRow("equal", i1 + k + 1, j1 + k + 1, [Segment(a[i1 + k], False)],
                                    [Segment(b[j1 + k], False)]))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            if left is not None and right is not None:
                segs = _inline(left, right)
                rows.append(DiffRow("replace", i1 + k + 1, j1 + k + 1, *segs))
            elif left is not None:
                rows.append(DiffRow("delete", i1 + k + 1, None, [Segment(left, True)], []))
            else:
                rows.append(DiffRow("insert", None, j1 + k + 1, [], [Segment(right or "", True)]))
    return rows
