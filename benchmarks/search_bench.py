"""Search and notice-page timings on N synthetic Chinese notices.

    .venv/bin/python benchmarks/search_bench.py --n 100000            # SQLite only
    .venv/bin/python benchmarks/search_bench.py --n 100000 --pg       # and PostgreSQL

Rows are bulk-loaded straight into the tables (the crawl path would take hours for a
million notices); the search rows use the same normalisation and n-gram keys as
``storage.search_index``. Prints p50/p95 in milliseconds for a two-character word, a
phrase and a filtered query through ``storage.search.search`` (ranked page of 20 with
snippets and the capped count), and for rendering a notice page through the web app.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noticewatch.config import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.search import search  # noqa: E402
from storage.search_keys import index_keys, sort_key  # noqa: E402
from storage.search_text import normalize  # noqa: E402

WORDS = ["通知", "公告", "关于", "开展", "工作", "实施", "方案", "管理", "办法", "教育", "卫生", "健康", "医疗", "保险", "社会", "保障", "城市", "农村", "垃圾", "分类", "环境", "保护", "生态", "安全", "生产", "消防", "交通", "道路", "建设", "规划", "项目", "招标", "采购", "结果", "公示", "名单", "人民", "政府", "街道", "社区", "居民", "企业", "市场", "监督", "检查", "专项", "整治", "行动", "防汛", "防台", "应急", "预案", "疫情", "防控", "学校", "招生", "报名", "考试", "就业", "创业", "补贴", "申报", "资金", "财政", "预算", "决算", "审计", "统计", "调查", "人口", "普查", "文化", "旅游", "体育", "赛事", "活动", "养老", "服务", "住房", "保障性", "租赁", "征收", "补偿", "土地", "出让", "乡村", "振兴", "农业", "水利"]
ORGS = [f"{d}区{o}" for d in ("马尾", "鼓楼", "台江", "仓山", "晋安", "长乐") for o in
        ("人民政府办公室", "教育局", "卫生健康局", "城市管理局", "生态环境局", "财政局", "住建局", "民政局")]
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def synth(rng: random.Random, i: int) -> dict[str, object]:
    title = "关于" + "".join(rng.choices(WORDS, k=rng.randint(3, 6))) + rng.choice(("的通知", "的公告", "的公示", "的通告"))
    body = "，".join("".join(rng.choices(WORDS, k=rng.randint(3, 7))) for _ in range(rng.randint(8, 16))) + "。"
    if i % 50 == 0:
        body += "全面推进生活垃圾分类工作。"
    year = rng.randint(2015, 2024)
    published = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:00:00+08:00"
    org = rng.choice(ORGS)
    doc_no = f"{org[:2]}政〔{year}〕{rng.randint(1, 200)}号"
    return {"id": i, "site_id": 1 + i % 20, "title": title, "body": body, "published_at": published,
            "issuing_org": org, "doc_no": doc_no}


def batches(n: int, size: int) -> Iterator[list[dict[str, object]]]:
    rng = random.Random(42)
    for start in range(1, n + 1, size):
        yield [synth(rng, i) for i in range(start, min(n, start + size - 1) + 1)]


def load(url: str, n: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for s in range(1, 21):
            conn.execute(text("INSERT INTO site (id, key, name, domain, base_url, family, verified, overrides, "
                              "health, created_at) VALUES (:i, :k, :n, :d, :u, 'trs', true, '{}', 'ok', :t)"),
                         {"i": s, "k": f"site{s}", "n": f"第{s}区人民政府", "d": f"s{s}.gov.cn",
                          "u": f"http://s{s}.gov.cn/", "t": T0})
    started = time.perf_counter()
    raw = engine.raw_connection()
    cur = raw.cursor()
    if pg:  # bulk load: build the GIN index once at the end, not row by row
        cur.execute("DROP INDEX ix_search_doc_grams")
        raw.commit()
    for rows in batches(n, 5000):
        notices = [(r["id"], r["site_id"], f"http://s{r['site_id']}.gov.cn/art/{r['id']}.html",
                    f"http://s{r['site_id']}.gov.cn/art/{r['id']}.html", 1, "active", r["title"],
                    r["published_at"], T0, T0, T0) for r in rows]
        versions = [(r["id"], r["id"], 1, r["title"], r["published_at"], r["issuing_org"], r["doc_no"],
                     r["body"], f"<p>{r['body']}</p>", "0" * 64, T0) for r in rows]
        docs = []
        for r in rows:
            doc = "\n".join(normalize(str(p)) for p in (r["title"], r["doc_no"], r["issuing_org"], r["body"]))
            org, doc_no, title = normalize(str(r["issuing_org"])), normalize(str(r["doc_no"])), normalize(str(r["title"]))
            keys = index_keys(doc=doc, title=title, issuing_org=org, doc_no=doc_no,
                              site_id=int(str(r["site_id"])), status="active")
            docs.append((sort_key(str(r["published_at"]), int(str(r["id"]))), r["id"], r["site_id"],
                         r["published_at"], "active", org, doc_no, title, doc, keys))
        if pg:
            with cur.copy("COPY notice (id, site_id, canonical_url, url, version_count, status, title, "
                          "published_at, first_seen_at, last_seen_at, last_changed_at) FROM STDIN") as copy:
                for row in notices:
                    copy.write_row(row)
            with cur.copy("COPY notice_version (id, notice_id, version, title, published_at, issuing_org, "
                          "doc_no, body_text, body_html, content_fingerprint, fetched_at) FROM STDIN") as copy:
                for row in versions:
                    copy.write_row(row)
            with cur.copy("COPY search_doc (sort_key, notice_id, site_id, published_at, status, issuing_org, "
                          "doc_no, title, doc, grams) FROM STDIN") as copy:
                for d in docs:
                    copy.write_row((*d[:9], " ".join(f"'{k}'" for k in d[9])))
        else:
            cur.executemany("INSERT INTO notice (id, site_id, canonical_url, url, version_count, status, title, "
                            "published_at, first_seen_at, last_seen_at, last_changed_at) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?)", [(*r[:8], *(t.isoformat() for t in r[8:])) for r in notices])
            cur.executemany("INSERT INTO notice_version (id, notice_id, version, title, published_at, issuing_org, "
                            "doc_no, body_text, body_html, content_fingerprint, fetched_at) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?)", [(*v[:10], v[10].isoformat()) for v in versions])
            cur.executemany("INSERT INTO search_doc (doc_id, notice_id, site_id, published_at, status, "
                            "issuing_org, doc_no, title, doc) VALUES (?,?,?,?,?,?,?,?,?)", [d[:9] for d in docs])
            cur.executemany("INSERT INTO search_grams (rowid, grams) VALUES (?, ?)",
                            [(d[0], " ".join(d[9])) for d in docs])
        raw.commit()
        done = rows[-1]["id"]
        if done % 100_000 == 0 or done == n:
            print(f"  loaded {done:,} notices in {time.perf_counter() - started:.0f} s", flush=True)
    cur.execute("UPDATE notice SET current_version_id = id")
    if pg:
        cur.execute("SELECT setval('notice_id_seq', %s), setval('notice_version_id_seq', %s)", (n, n))
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("CREATE INDEX ix_search_doc_grams ON search_doc USING gin (grams) WITH (fastupdate = off)")
        raw.commit()
        raw.driver_connection.autocommit = True  # VACUUM refuses to run in a transaction
        raw.driver_connection.execute("VACUUM ANALYZE")
    else:
        raw.commit()
        cur.execute("INSERT INTO search_grams (search_grams) VALUES ('optimize')")
        cur.execute("ANALYZE")
        raw.commit()
    raw.close()
    engine.dispose()
    print(f"  load total {time.perf_counter() - started:.0f} s", flush=True)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm the cache: steady-state figures
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def measure(url: str, n: int, repeat: int, data_dir: Path) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    queries = {
        "two-character word 教育": "教育",
        "two-character word 通知 (in most titles)": "通知",
        "one character 马": "马",
        'phrase "垃圾分类工作"': '"垃圾分类工作"',
        "filtered 教育 site:site7 from:2020-01-01 org:教育局": "教育 site:site7 from:2020-01-01 org:教育局",
        "boolean 垃圾 OR 防汛 -应急": "垃圾 OR 防汛 -应急",
    }
    for label, q in queries.items():
        def run(q: str = q) -> object:
            with factory() as session:
                return search(session, q, limit=20)
        p50, p95 = timed(run, repeat)
        with factory() as session:
            total = search(session, q, limit=20)
        shown = f"{total.total}{'+' if total.total_is_capped else ''}"
        print(f"  {label:55s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({shown} hits)", flush=True)

    from fastapi.testclient import TestClient

    from noticewatch.store import open_store
    from noticewatch.web import create_app

    settings = load_settings(env={}, cli={"data_dir": str(data_dir), "database_url": url}, cwd=data_dir)
    store = open_store(settings, upgrade=False)
    rng = random.Random(7)
    with TestClient(create_app(settings, store=store)) as client:
        def page() -> object:
            response = client.get(f"/notices/{rng.randint(1, n)}")
            assert response.status_code == 200
            return response
        p50, p95 = timed(page, repeat)
        print(f"  {'notice page render (GET /notices/{id})':55s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)

        def search_page() -> object:
            response = client.get("/", params={"q": "教育"})
            assert response.status_code == 200
            return response
        p50, p95 = timed(search_page, repeat)
    print(f"  {'search page with facets (GET /?q=教育)':55s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)
    store.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic notices (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per query")
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL (temporary database)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--dir", default=None, help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="SQLite: measure an existing bench file in --dir")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL: load into / reuse this database (kept)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    work = Path(args.dir or tempfile.mkdtemp(prefix="nw_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{args.n:,} synthetic notices; {args.repeat} runs per figure (after one warm-up)")
    if not args.no_sqlite:
        import sqlite3

        url = f"sqlite:///{work / 'bench.sqlite3'}"
        print(f"SQLite {sqlite3.sqlite_version} ({url})")
        if not (args.reuse and Path(url.split(":///")[1]).exists()):
            load(url, args.n)
        print(f"  database file {Path(url.split(':///')[1]).stat().st_size / 1e6:.0f} MB")
        measure(url, args.n, args.repeat, work)
    if args.pg:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pg import create_temp_database, drop_database

        url = args.pg_url or create_temp_database("nw_bench")
        print(f"PostgreSQL ({url})")
        try:
            if not args.reuse:
                load(url, args.n)
            engine = make_engine(url)
            with engine.connect() as conn:
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            engine.dispose()
            print(f"  database size {int(size or 0) / 1e6:.0f} MB")
            measure(url, args.n, args.repeat, work)
        finally:
            if not args.pg_url:
                drop_database(url)


if __name__ == "__main__":
    main()
