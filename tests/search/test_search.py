"""Search semantics, identical on SQLite and PostgreSQL (C locale)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.search import SearchSyntaxError, facets, iter_search_ids, rebuild_index, search
from storage.search_text import normalize
from tests.search.corpus import NOTICES, record


def found(factory: sessionmaker[Session], ids: dict[str, int], query: str, **filters: str) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    with factory() as session:
        result = search(session, query, filters=filters or None, limit=100)
    return {by_id[h.notice_id] for h in result.hits}


CASES = [
    ("通知", {"garbage"}),  # two characters: the trigram trap
    ("教育", {"exam", "environment"}),
    ("马", {"garbage", "exam", "marathon", "fullwidth"}),  # one character, also in fields/attachments
    ("垃圾分类", {"garbage", "consult"}),
    ('"垃圾 分类"', {"environment"}),  # a phrase keeps its space
    ("垃圾 分类", {"garbage", "consult", "environment"}),  # two words, implicit AND
    ("垃圾 AND 分类", {"garbage", "consult", "environment"}),
    ("垃圾 OR 教育", {"garbage", "consult", "environment", "exam"}),
    ("垃圾 -征求意见", {"garbage", "environment", "exam"}),
    ("垃圾 NOT 征求意见", {"garbage", "environment", "exam"}),
    ("(垃圾 OR 教育) 马", {"garbage", "exam"}),
    ("通知 马", {"garbage"}),
    ("-马 垃圾", {"environment", "consult"}),
    ("pm2.5", {"environment", "fullwidth"}),
    ("ＰＭ２．５", {"environment", "fullwidth"}),  # full-width folds to ASCII
    ("船政", {"marathon"}),  # attachment text
    ("线路图", {"marathon"}),  # attachment name
    ("严格考核", {"garbage"}),  # only in the second version
    ("马城管〔2024〕12号", {"garbage"}),  # punctuation inside a term
    ("垃圾分类 status:active", {"garbage"}),
    ("垃圾 site:gulou", {"environment", "consult"}),
    ("垃圾 from:2024-01-01 to:2024-03-31", {"garbage"}),
    ("垃圾 to:2023", {"environment"}),
    ("马 column:政策文件", {"exam"}),
    ("马 org:教育局", {"exam"}),
    ("doc_no:马城管", {"garbage"}),
    ("site:gulou", {"environment", "consult"}),
    ("不存在的词语", set()),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_query_semantics(archive: tuple, query: str, expected: set[str]) -> None:
    factory, ids = archive
    assert found(factory, ids, query) == expected


def test_keyword_filters_match_inline_ones(archive: tuple) -> None:
    factory, ids = archive
    assert found(factory, ids, "马", issuing_org="教育局") == {"exam"}
    assert found(factory, ids, "垃圾", site="gulou", status="withdrawn") == {"consult"}
    assert found(factory, ids, "垃圾", date_from="2024-06") == {"consult"}
    assert found(factory, ids, "马", column="http://www.mawei.gov.cn/zcwj/") == {"exam"}


def _corpus_docs() -> dict[str, str]:
    docs = {}
    for spec in NOTICES:
        body = spec["body"] + ("三、严格考核。" if spec["key"] == "garbage" else "")
        parts = [spec["title"], spec["doc_no"], spec["issuing_org"], body]
        for name, _sha, att_text in spec.get("attachments", []):
            parts += [name, att_text]
        docs[spec["key"]] = "\n".join(normalize(p) for p in parts if p)
    return docs


def test_every_short_substring_agrees_with_brute_force(archive: tuple) -> None:
    """All 1-, 2- and 3-character substrings of some corpus text: index == brute force."""
    factory, ids = archive
    docs = _corpus_docs()
    sample = "马尾区教育局关于2024年中考报名的公告垃圾分类半程赛事"
    terms = {sample[i:i + n] for n in (1, 2, 3) for i in range(len(sample) - n + 1)}
    for term in sorted(terms):
        expected = {key for key, doc in docs.items() if term in doc}
        assert found(factory, ids, term) == expected, term


def test_ranking_title_hits_first_and_snippets_marked(archive: tuple) -> None:
    factory, ids = archive
    with factory() as session:
        result = search(session, "垃圾分类")
    assert [h.notice_id for h in result.hits] == [ids["garbage"], ids["consult"]]
    top = result.hits[0]
    assert "<mark>垃圾分类</mark>" in top.title_html
    assert "<mark>垃圾分类</mark>" in top.snippet_html
    assert "【垃圾分类】" in top.snippet
    assert result.total == 2


def test_attachment_hit_snippet_and_one_character(archive: tuple) -> None:
    factory, ids = archive
    with factory() as session:
        result = search(session, "船政")
    assert "<mark>船政</mark>" in result.hits[0].snippet_html


def test_pagination_and_total(archive: tuple) -> None:
    factory, ids = archive
    with factory() as session:
        first = search(session, "马", limit=2)
        second = search(session, "马", limit=2, offset=2)
        all_ids = list(iter_search_ids(session, "马", batch_size=3))
    assert first.total == 4 and second.total == 4
    assert [h.notice_id for h in first.hits + second.hits] == all_ids
    assert len(set(all_ids)) == 4


def test_facets(archive: tuple) -> None:
    factory, ids = archive
    with factory() as session:
        got = facets(session, "垃圾")
    assert sorted(got["site"]) == [("gulou", "鼓楼区人民政府", 2), ("mawei", "马尾区人民政府", 2)]
    assert dict((v, n) for v, _, n in got["year"]) == {"2024": 3, "2023": 1}
    assert ("鼓楼区城市管理局", "鼓楼区城市管理局", 1) in got["issuing_org"]


BAD = [
    ('"垃圾分类', "unclosed quote"),
    ("垃圾 AND", "AND needs a word"),
    ("OR 通知", "OR needs a word before it"),
    ("通知 OR", "OR needs a word"),
    ("NOT", "must be followed by a word"),
    ("-", "must be followed by the word"),
    ("(通知", "unclosed '('"),
    ("通知)", "unexpected ')'"),
    ('""', "empty phrase"),
    ("〔〕", "no letters"),
    ("", "empty"),
    ("from:2024/01/01", "expected a date"),
    ("status:deleted", "status"),
    ("()", "empty parentheses"),
]


@pytest.mark.parametrize(("query", "message"), BAD, ids=[b[0] or "empty" for b in BAD])
def test_bad_syntax_is_a_clear_message(archive: tuple, query: str, message: str) -> None:
    factory, _ids = archive
    with factory() as session, pytest.raises(SearchSyntaxError) as info:
        search(session, query)
    assert message in str(info.value)


def test_sync_follows_new_versions_withdrawals_and_rebuild(archive: tuple) -> None:
    factory, ids = archive
    with factory.begin() as session:
        rebuild_index(session)
    assert found(factory, ids, "严格考核") == {"garbage"}
    assert found(factory, ids, "status:withdrawn") == {"consult"}
    with factory() as session:
        rows = session.execute(text("SELECT count(*) FROM search_doc")).scalar()
    assert rows == len(NOTICES)


def test_edit_replaces_old_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storage import repository as repo
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from tests.search.corpus import SITES

    url = f"sqlite:///{tmp_path / 'edit.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        repo.sync_sites(session, SITES)
        notice_id = repo.apply_notice(session, record(NOTICES[3])).notice_id
    ids = {"consult": notice_id}
    assert found(factory, ids, "征求意见稿") == {"consult"}
    with factory.begin() as session:
        repo.apply_notice(session, record(NOTICES[3], body="管理办法已正式印发。"))
    assert found(factory, ids, "征求意见稿") == set()
    assert found(factory, ids, "正式印发") == {"consult"}
    with factory.begin() as session:  # a rolled back change leaves the index alone
        repo.apply_notice(session, record(NOTICES[3], body="回滚的内容"))
        session.rollback()
    assert found(factory, ids, "回滚") == set()
    engine.dispose()


RANKED = ["马", "垃圾 分类", "垃圾 OR 教育", "关于 公告 2024", "马 -通知", "公告 OR 通知 OR 马", "site:mawei"]


@pytest.mark.parametrize("query", RANKED)
def test_rank_order_title_words_then_newest_and_pages_agree(archive: tuple, query: str) -> None:
    """Rank = how many wanted words the title holds, then newest first, whichever title
    level each hit comes from; pages of one and the export order agree with it."""
    factory, ids = archive
    by_id = {v: k for k, v in ids.items()}
    spec = {s["key"]: s for s in NOTICES}
    with factory() as session:
        result = search(session, query, limit=100)
        exported = list(iter_search_ids(session, query))
        paged = [h.notice_id for offset in range(len(result.hits))
                 for h in search(session, query, limit=1, offset=offset).hits]
    got = [h.notice_id for h in result.hits]
    terms = result.terms

    def rank(notice_id: int) -> tuple[int, str, int]:
        title = normalize(spec[by_id[notice_id]]["title"])
        return (-sum(t in title for t in terms), "~" + spec[by_id[notice_id]]["published_at"], -notice_id)

    expected = sorted(got, key=lambda n: (rank(n)[0], [-ord(c) for c in rank(n)[1]], rank(n)[2]))
    assert got and got == expected
    assert [h.score for h in result.hits] == [-rank(n)[0] for n in got]
    assert paged == got and exported == got


def test_sort_key_orders_by_published_minute_then_id() -> None:
    from storage.search_keys import minute_bound, sort_key

    assert sort_key("2024-03-05T09:00:00+08:00", 7) > sort_key("2024-03-05T08:59:00+08:00", 9)
    assert sort_key("2024-03-05T09:00:00+08:00", 9) > sort_key("2024-03-05T09:00:00+08:00", 7)
    assert sort_key("2024-03-05", 1) >= minute_bound("2024-03-05") > sort_key("2024-03-04T23:59", 2**32 - 1)
    assert sort_key(None, 5) == sort_key("not a date", 5) == 5 < minute_bound("1900")
    assert sort_key("9999-12-31T23:59", 2**32 - 1) < 2**63


def test_filters_without_words_and_undated_notices(archive: tuple) -> None:
    factory, ids = archive
    assert found(factory, ids, "status:active from:2024-05-21") == {"fullwidth"}
    assert found(factory, ids, "to:2023-11-01") == {"environment"}
    assert found(factory, ids, "site:nosuchsite") == set()
    assert found(factory, ids, "-马") == {"environment", "consult"}
    assert found(factory, ids, "-马 -垃圾") == set()
