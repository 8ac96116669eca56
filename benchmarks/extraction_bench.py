"""Extraction quality: every demo-web notice parsed and compared with the fixture's truth.

    .venv/bin/python benchmarks/extraction_bench.py [--seed 2024] [--show 3]

Starts the local demo web, fetches each notice of ``World.ground_truth()`` through it
(as an HTTP proxy, with urllib), parses it with its family adapter and compares field
by field: exact match for the text fields, ``difflib.SequenceMatcher`` ratio on
whitespace-normalised body text, and the set of attachment URLs. Prints accuracy per
field and per family, a few mismatches per field, and the time taken. Targets (issue 3):
≥ 99 % exact for title, published_at, source, index_no, doc_no, issuing_org; body
similarity ≥ 0.98; attachments 100 %. ``tests/parsing/test_demoweb_extraction.py``
runs the same comparison (untimed) and asserts the targets.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crawler.parsing.adapters import adapter_for
from crawler.parsing.encoding import decode_html
from crawler.parsing.types import ExtractionError, ParsedNotice

EXACT_FIELDS = ("title", "published_at", "source", "index_no", "doc_no", "issuing_org",
                "written_date", "validity", "subject", "category")
TARGETED = ("title", "published_at", "source", "index_no", "doc_no", "issuing_org")
EXACT_TARGET = 0.99
BODY_TARGET = 0.98
ATTACHMENT_TARGET = 1.0
_WS = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def body_similarity(got: str, want: str) -> float:
    a, b = normalise(got), normalise(want)
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass
class Tally:
    """Per field: matches and total; per body: the similarity sum and the worst ratio."""

    exact: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    body_sum: float = 0.0
    body_min: float = 1.0
    notices: int = 0
    failures: int = 0  # pages that raised ExtractionError

    def exact_rate(self, name: str) -> float:
        ok, total = self.exact[name]
        return ok / total if total else 1.0

    @property
    def body_mean(self) -> float:
        return self.body_sum / self.notices if self.notices else 1.0


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    families: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    mismatches: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def misses(self) -> list[str]:
        """The targets not met, one line each (empty: all met)."""
        o = self.overall
        out = [f"{name}: {o.exact_rate(name):.2%} < {EXACT_TARGET:.0%}" for name in TARGETED
               if o.exact_rate(name) < EXACT_TARGET]
        if o.body_mean < BODY_TARGET:
            out.append(f"body similarity: mean {o.body_mean:.4f} < {BODY_TARGET}")
        if o.exact_rate("attachments") < ATTACHMENT_TARGET:
            out.append(f"attachments: {o.exact_rate('attachments'):.2%} < 100%")
        if o.failures:
            out.append(f"{o.failures} notices raised ExtractionError")
        return out


def compare(parsed: ParsedNotice | None, truth: Mapping[str, Any], report: Report, error: str = "") -> None:
    """Add one notice's comparison to ``report`` (a failed parse counts as wrong everywhere)."""
    tallies = (report.overall, report.families[str(truth["family"])])
    for tally in tallies:
        tally.notices += 1
        tally.failures += parsed is None
    checks: dict[str, tuple[bool, Any, Any]] = {}
    for name in EXACT_FIELDS:
        got = getattr(parsed, name) if parsed else None
        checks[name] = (parsed is not None and got == truth.get(name), got, truth.get(name))
    got_atts = {a.url for a in parsed.attachments} if parsed else set()
    want_atts = {a["url"] for a in truth.get("attachments") or ()}
    checks["attachments"] = (parsed is not None and got_atts == want_atts, sorted(got_atts), sorted(want_atts))
    ratio = body_similarity(parsed.body_text, str(truth.get("body_text") or "")) if parsed else 0.0
    for tally in tallies:
        for name, (ok, _got, _want) in checks.items():
            tally.exact[name][0] += ok
            tally.exact[name][1] += 1
        tally.body_sum += ratio
        tally.body_min = min(tally.body_min, ratio)
    for name, (ok, got, want) in checks.items():
        if not ok:
            report.mismatches[name].append(f"{truth['url']}: got {got!r}, want {want!r} {error}".rstrip())
    if ratio < BODY_TARGET:
        report.mismatches["body"].append(f"{truth['url']}: similarity {ratio:.3f}")


def opener_for(proxy_url: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy_url, "https": proxy_url}))


def parse_truth(opener: urllib.request.OpenerDirector, truth: Mapping[str, Any]) -> tuple[ParsedNotice | None, str]:
    with opener.open(str(truth["url"]), timeout=30) as response:
        body = response.read(20 * 1024 * 1024)
        text, _encoding = decode_html(body, response.headers.get("Content-Type"))
        final_url = response.geturl()
    try:
        return adapter_for(str(truth["family"])).parse_notice(text, final_url), ""
    except ExtractionError as exc:
        return None, f"(ExtractionError: {exc.reason})"


def evaluate(proxy_url: str, truths: Iterable[Mapping[str, Any]]) -> Report:
    report = Report()
    opener = opener_for(proxy_url)
    for truth in truths:
        parsed, error = parse_truth(opener, truth)
        compare(parsed, truth, report, error)
    return report


def render(report: Report) -> str:
    names = [*EXACT_FIELDS, "attachments"]
    families = sorted(report.families)
    lines = [f"{'field':<13}" + "".join(f"{f:>10}" for f in ["all", *families])]
    for name in names:
        cells = [report.overall.exact_rate(name), *(report.families[f].exact_rate(name) for f in families)]
        mark = " *" if name in TARGETED or name == "attachments" else ""
        lines.append(f"{name + mark:<13}" + "".join(f"{c:>10.2%}" for c in cells))
    tallies = [report.overall, *(report.families[f] for f in families)]
    lines.append(f"{'body mean':<13}" + "".join(f"{t.body_mean:>10.4f}" for t in tallies))
    lines.append(f"{'body min':<13}" + "".join(f"{t.body_min:>10.4f}" for t in tallies))
    lines.append(f"{'notices':<13}" + "".join(f"{t.notices:>10}" for t in tallies))
    lines.append(f"{'parse errors':<13}" + "".join(f"{t.failures:>10}" for t in tallies))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from noticewatch.demoweb import DemoWeb, World

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--show", type=int, default=3, help="mismatches shown per field")
    args = ap.parse_args(argv)
    with DemoWeb(World(args.seed)) as web:
        truths = web.world.ground_truth()
        started = time.perf_counter()
        report = evaluate(web.proxy_url, truths)
        elapsed = time.perf_counter() - started
    print(render(report))
    print(f"\n{len(truths)} notices in {elapsed:.1f} s (fetch + decode + parse, {elapsed / max(1, len(truths)) * 1000:.1f} ms each)"
          "; * = targeted field")
    for name, lines in sorted(report.mismatches.items()):
        print(f"\n{name}: {len(lines)} mismatches")
        for line in lines[: args.show]:
            print(f"  {line}")
    misses = report.misses()
    print("\ntargets: " + ("all met" if not misses else "NOT MET: " + "; ".join(misses)))
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
