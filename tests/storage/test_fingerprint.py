from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.fingerprint import (
    body_fingerprint,
    content_fingerprint,
    jaccard_estimate,
    minhash_signature,
    normalise_for_compare,
)
from storage.records import AttachmentRecord
from tests.storage.factories import BODY, blob, make_record


def test_normalise_folds_cosmetics() -> None:
    assert normalise_for_compare("关于  开展　２０２４年\n工作的通知 浏览次数：123") == "关于开展2024年工作的通知"
    assert normalise_for_compare("Hello \t  World\u200b") == "Hello World"
    assert normalise_for_compare("阅读量: 45 次 正文") == "正文"
    assert normalise_for_compare(None) == ""


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_for_compare(text)
    assert normalise_for_compare(once) == once


def test_content_fingerprint_ignores_cosmetic_changes() -> None:
    a = make_record(body=BODY + "\n浏览次数：12")
    b = make_record(body="  " + BODY.replace("。", "。\n\n") + " 浏览次数：13", title="关于开展2024年度城乡居民医保参保缴费工作的通知 ")
    assert content_fingerprint(a) == content_fingerprint(b)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "关于开展2025年度城乡居民医保参保缴费工作的通知"},
        {"body": BODY.replace("380元", "400元")},
        {"published_at": "2024-05-02T09:30:00+08:00"},
        {"doc_no": "马政〔2024〕1号"},
        {"attachments": [AttachmentRecord(url="http://x/a.pdf", name="a.pdf", blob=blob("a"))]},
    ],
)
def test_content_fingerprint_sees_real_changes(change: dict) -> None:
    assert content_fingerprint(make_record()) != content_fingerprint(make_record(**change))


def test_attachment_identity_is_digest_then_url() -> None:
    one = AttachmentRecord(url="http://x/a.pdf?t=1", name="a.pdf", blob=blob("a"))
    moved = AttachmentRecord(url="http://y/other.pdf", name="a.pdf", blob=blob("a"))
    replaced = AttachmentRecord(url="http://x/a.pdf?t=1", name="a.pdf", blob=blob("b"))
    fp = content_fingerprint(make_record(attachments=[one]))
    assert fp == content_fingerprint(make_record(attachments=[moved]))
    assert fp != content_fingerprint(make_record(attachments=[replaced]))
    skipped = AttachmentRecord(url="http://x/big.zip?_=123", name="big.zip", skipped_reason="size")
    same_skipped = AttachmentRecord(url="http://x/big.zip", name="big.zip", skipped_reason="size")
    assert content_fingerprint(make_record(attachments=[skipped])) == content_fingerprint(
        make_record(attachments=[same_skipped])
    )


def test_body_fingerprint_and_minhash() -> None:
    assert body_fingerprint(BODY) == body_fingerprint(" " + BODY + "\n")
    sig = minhash_signature(BODY)
    assert isinstance(sig, bytes) and len(sig) == 512
    assert sig == minhash_signature(BODY)  # fixed seed: stable across calls/processes
    edited = BODY.replace("380元", "400元").replace("本区户籍", "我区户籍")
    assert jaccard_estimate(sig, minhash_signature(edited)) >= 0.8
    assert jaccard_estimate(sig, minhash_signature("完全不同的另一份关于道路施工交通管制的公告内容")) < 0.2
    with pytest.raises(ValueError):
        jaccard_estimate(sig, sig[:8])
