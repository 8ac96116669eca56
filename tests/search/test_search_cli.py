"""``noticewatch search``: hits, JSON, exports, clear syntax errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from noticewatch.cli import root
from noticewatch.config import load_settings
from noticewatch.store import open_store
from tests.search.corpus import fill


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clisearch")
    store = open_store(load_settings(env={}, cli={"data_dir": str(path)}, cwd=path))
    fill(store.factory)
    store.close()
    return path


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, list(args), env={"NOTICEWATCH_DATA_DIR": str(data_dir)},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_plain_hits_with_marked_snippets(data_dir: Path) -> None:
    code, out, err = run(data_dir, "search", "垃圾分类")
    assert code == 0
    assert "关于做好生活【垃圾分类】工作的通知" in out
    assert "1–2 of 2 notices" in err


def test_filters_as_options(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "search", "马", "--issuing-org", "教育局", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and [h["title"] for h in hits] == ["马尾区教育局关于2024年中考报名的公告"]
    code, out, _ = run(data_dir, "search", "垃圾", "--site", "gulou", "--status", "withdrawn", "--json")
    assert [h["title"] for h in json.loads(out)["hits"]] == ["关于征求意见的公告"]
    code, out, _ = run(data_dir, "search", "垃圾", "--from", "2024-01-01", "--to", "2024-03-31", "--json")
    assert len(json.loads(out)["hits"]) == 1


def test_export_jsonl_and_csv(data_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(data_dir, "search", "教育", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {r["title"] for r in rows} == {"马尾区教育局关于2024年中考报名的公告", "鼓楼区环境保护工作方案"}
    assert {"id", "site", "body_text", "attachments", "doc_no"} <= set(rows[0])
    target = tmp_path / "hits.csv"
    code, _, err = run(data_dir, "search", "教育", "--format", "csv", "-o", str(target))
    assert code == 0 and "exported 2 notices" in err
    assert len(list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))) == 2


def test_bad_query_is_a_clear_error(data_dir: Path) -> None:
    code, out, err = run(data_dir, "search", '"垃圾 AND')
    assert code == 2
    assert "cannot read the query: unclosed quote" in err
    assert "Traceback" not in out + err


def test_no_hits(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "search", "没有这个词")
    assert code == 0 and "no notices found" in out
