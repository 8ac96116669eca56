from __future__ import annotations

import pytest

from crawler.parsing.dates import from_epoch, parse_cn_date, parse_cn_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-04", "2022-01-04"),
        ("[2024-01-04]", "2024-01-04"),
        ("2025年12月04日", "2025-12-04"),
        ("2024-04-30 11:21", "2024-04-30T11:21:00+08:00"),
        ("2026-03-27 15:02:08", "2026-03-27T15:02:08+08:00"),
        ("2022/1/4", "2022-01-04"),
        ("2022.01.04", "2022-01-04"),
        ("发布时间：2023-10-23 10:03", "2023-10-23T10:03:00+08:00"),
        ("发布日期:2023-10-23", "2023-10-23"),
        ("日期:2022-01-04 09:40", "2022-01-04T09:40:00+08:00"),
        ("时间：2023-10-23 10:03", "2023-10-23T10:03:00+08:00"),
        ("信息提供日期：2024-01-04", "2024-01-04"),
        ("2024-01-\n04", "2024-01-04"),
        ("2024\n-01-04\n 09:30", "2024-01-04T09:30:00+08:00"),
        ("t20220104_1234567", "2022-01-04"),
    ],
)
def test_formats(text: str, expected: str) -> None:
    assert parse_cn_datetime(text) == expected


@pytest.mark.parametrize("text", ["2023-02-30", "2023-13-01", "2023-01-01 25:00", "", "无", "abc"])
def test_impossible_or_missing(text: str) -> None:
    assert parse_cn_datetime(text) is None


def test_epoch_seconds_and_millis() -> None:
    assert from_epoch(1704330000) == "2024-01-04T09:00:00+08:00"
    assert from_epoch(1704330000000) == "2024-01-04T09:00:00+08:00"
    assert from_epoch("1704330000") == "2024-01-04T09:00:00+08:00"
    assert parse_cn_datetime("1704330000") == "2024-01-04T09:00:00+08:00"
    assert from_epoch(None) is None
    assert from_epoch(-5) is None
    assert from_epoch(float("nan")) is None


def test_bare_date() -> None:
    assert parse_cn_date("2026-03-27 15:02:08") == "2026-03-27"
