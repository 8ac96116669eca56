"""What archiving costs: crawl the demo web with and without WARC capture + text extraction.

    .venv/bin/python benchmarks/archive_bench.py [--rounds 3]

Each round crawls the whole demo web into a fresh data directory twice: once with
``WARC_ENABLED=False EXTRACT_ENABLED=False`` and once with both on (the order
alternates between rounds). It prints the median wall time of each and the overhead,
then crawls the unchanged world again into the archiving directory and reports how
much the WARC and blob storage grew, by WARC record type (target: revisits only).
Target (issue 5): archiving adds at most 20% to crawl time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.registry import load_registry  # noqa: E402
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env, write_demo_registry  # noqa: E402
from noticewatch.config import load_settings  # noqa: E402
from noticewatch.crawling import run_crawl  # noqa: E402
from noticewatch.demoweb import DemoWeb  # noqa: E402
from noticewatch.store import open_store  # noqa: E402

OFF = ("WARC_ENABLED=False", "EXTRACT_ENABLED=False")


def _size(path: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern) if p.is_file()) if path.exists() else 0


def _record_types(files: list[Path]) -> Counter[str]:
    from warcio.archiveiterator import ArchiveIterator

    types: Counter[str] = Counter()
    for path in files:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                types[record.rec_type] += 1
    return types


def crawl(data_dir: Path, proxy_url: str, extra: tuple[str, ...]) -> tuple[float, dict[str, int]]:
    env = {**os.environ, "NOTICEWATCH_DATA_DIR": str(data_dir)}
    env.pop("NOTICEWATCH_DATABASE_URL", None)
    settings = load_settings(env=env)
    registry_path = write_demo_registry(settings.data_path)
    registry = load_registry([registry_path])
    store = open_store(settings)
    try:
        started = time.perf_counter()
        result = run_crawl(settings, store, registry, overrides=DEMO_OVERRIDES + extra,
                           registry_paths=[str(registry_path)], env=proxy_env(proxy_url))
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    if result.status != "finished":
        raise SystemExit(f"crawl {result.status}; see {result.log_file}")
    return elapsed, result.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="nw-archive-bench-") as tmp, DemoWeb(port=0) as web:
        last_on = Path(tmp)
        for round_no in range(args.rounds):
            order = ("off", "on") if round_no % 2 == 0 else ("on", "off")
            for mode in order:
                data_dir = Path(tmp) / f"{mode}-{round_no}"
                elapsed, counts = crawl(data_dir, web.proxy_url, OFF if mode == "off" else ())
                times[mode].append(elapsed)
                print(f"round {round_no + 1} {mode:>3}: {elapsed:6.2f} s  new={counts.get('new', 0)} "
                      f"requests={counts.get('requests', 0)}", flush=True)
                if mode == "on":
                    last_on = data_dir
        off, on = statistics.median(times["off"]), statistics.median(times["on"])
        print(f"\nmedian wall time: without archiving {off:.2f} s, with WARC + extraction {on:.2f} s, "
              f"overhead {100 * (on - off) / off:+.1f}% (target <= 20%)")
        warc_dir, blob_dir = last_on / "warc", last_on / "blobs"
        before_files = set(warc_dir.rglob("*.warc.gz"))
        warc_before, blobs_before = _size(warc_dir, "*.warc.gz"), _size(blob_dir)
        elapsed, counts = crawl(last_on, web.proxy_url, ())
        new_files = sorted(set(warc_dir.rglob("*.warc.gz")) - before_files)
        types = _record_types(new_files)
        print(f"second crawl of the unchanged world: {elapsed:.2f} s, counts {dict(counts)}")
        print(f"  WARC growth {_size(warc_dir, '*.warc.gz') - warc_before} bytes in {len(new_files)} new files "
              f"(first crawl: {warc_before} bytes); records by type: {dict(types)}")
        print(f"  blob growth {_size(blob_dir) - blobs_before} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
