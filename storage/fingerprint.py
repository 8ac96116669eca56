"""Content fingerprints: what counts as "the notice changed", and near-duplicate signatures.

A new version is stored only when the *significant* content changes. Re-rendered
whitespace, full-width/half-width variants and the view counter every CMS prints
(``浏览次数：123``) must not create versions, or every re-check would look like an edit.
Boilerplate (headers, footers, share bars) is assumed already removed by the parser.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from datasketch import MinHash

from storage.urls import canonicalize_url

if TYPE_CHECKING:
    from storage.records import NoticeRecord

__all__ = [
    "FINGERPRINT_VERSION",
    "MINHASH_PERMUTATIONS",
    "body_fingerprint",
    "content_fingerprint",
    "jaccard_estimate",
    "minhash_signature",
    "normalise_for_compare",
]

# Bumped when the normalisation changes, so old and new fingerprints never collide by
# accident (a bump makes every notice look changed once: do it with a migration).
FINGERPRINT_VERSION = "nw1"
MINHASH_PERMUTATIONS = 128
_MINHASH_SEED = 20240501  # fixed: signatures are stored and compared across runs
_SHINGLE = 3
# Pinned: the default scheme changed in datasketch 2.0 and stored signatures must stay
# comparable across upgrades. affine32 keeps hash values below 2**32.
_MINHASH_SCHEME = "affine32"

# Counters and their labels, as rendered after NFKC (full-width colon → ":").
# The number may be missing when a script fills it in after load.
_COUNTER = re.compile(
    r"(?:浏览|阅读|点击|访问|查看)(?:次数|量|数|人次)\s*[:]?\s*\d*\s*(?:次)?"
    r"|(?:浏览|阅读|点击|访问)\s*[:]\s*\d+\s*(?:次)?"
)
_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
# A space next to a CJK character is layout (titles are justified with spaces),
# a space between two Latin words is not.
_CJK_GAP = re.compile(r" (?=[^\x00-\x7f])|(?<=[^\x00-\x7f]) ")


def normalise_for_compare(text: str | None) -> str:
    """Fold ``text`` to the form compared across fetches.

    NFKC (full-width letters, digits, punctuation and the ideographic space become their
    ASCII forms), invisible characters dropped, view counters removed, whitespace runs
    folded to one space and dropped entirely next to CJK characters.
    """
    if not text:
        return ""
    # Dropping a space can let NFKC compose a combining mark with its new neighbour
    # (and NFKC can produce spaces): repeat until stable so the result is idempotent.
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _COUNTER.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


def _digest(payload: object) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def content_fingerprint(record: NoticeRecord) -> str:
    """SHA-256 over the normalised significant fields of one fetched notice.

    Attachments count by (name, sha256) — or their canonical URL when the file was not
    stored — and are sorted, because a re-ordered attachment list is not an edit.
    ``category`` and ``body_html`` are left out: markup and navigation labels change
    with CMS templates, not with the notice.
    """
    attachments = sorted(
        (
            normalise_for_compare(a.name),
            a.blob.sha256 if a.blob is not None else canonicalize_url(a.url),
        )
        for a in record.attachments
    )
    fields = {
        name: normalise_for_compare(getattr(record, name))
        for name in (
            "title", "published_at", "source", "index_no", "doc_no", "issuing_org",
            "written_date", "validity", "subject", "body_text",
        )
    }
    return _digest({"v": FINGERPRINT_VERSION, "fields": fields, "attachments": attachments})


def body_fingerprint(text: str | None) -> str:
    """SHA-256 of the normalised body alone: the same text reposted by another site."""
    return _digest({"v": FINGERPRINT_VERSION, "body": normalise_for_compare(text)})


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Generating 128 permutations is the expensive part of a MinHash: do it once.
    template = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=_MINHASH_SEED, scheme=_MINHASH_SCHEME)
    a, b = template.permutations
    return a, b


def _shingles(text: str) -> list[bytes]:
    folded = normalise_for_compare(text).replace(" ", "")
    if len(folded) <= _SHINGLE:
        return [folded.encode("utf-8", "surrogatepass")] if folded else []
    return [
        folded[i : i + _SHINGLE].encode("utf-8", "surrogatepass")
        for i in range(len(folded) - _SHINGLE + 1)
    ]


def minhash_signature(text: str | None) -> bytes:
    """MinHash of the character 3-shingles, as 128 little-endian uint32 (512 bytes).

    The affine32 scheme keeps hash values below 2**32, so 32 bits per slot lose nothing.
    """
    mh = MinHash(
        num_perm=MINHASH_PERMUTATIONS,
        seed=_MINHASH_SEED,
        permutations=_permutations(),
        scheme=_MINHASH_SCHEME,
    )
    shingles = _shingles(text or "")
    if shingles:
        mh.update_batch(shingles)
    return np.asarray(mh.hashvalues, dtype="<u4").tobytes()


def jaccard_estimate(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the texts behind two ``minhash_signature`` values."""
    if len(a) != len(b) or not a or len(a) % 4:
        raise ValueError("signatures of different or invalid lengths")
    va = np.frombuffer(a, dtype="<u4")
    vb = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(va == vb)) / len(va)
