"""Case numbers and postal addresses as value types: parsing, canonical spelling, identity."""

from __future__ import annotations

import pytest

from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber


@pytest.mark.parametrize(
    ("raw", "year", "court", "case_type", "sequence", "text"),
    [
        ("（2024）鲁1002民初1234号", 2024, "鲁1002", "民初", 1234, "（2024）鲁1002民初1234号"),
        ("(2024)鲁1002民初1234号", 2024, "鲁1002", "民初", 1234, "（2024）鲁1002民初1234号"),  # half-width brackets
        (" ( 2024 ) 鲁10 民终 56 号 ", 2024, "鲁10", "民终", 56, "（2024）鲁10民终56号"),
        ("（2026）鲁1002民初0999号", 2026, "鲁1002", "民初", 999, "（2026）鲁1002民初0999号"),
        ("（2023）最高法民申7号", 2023, "最高法", "民申", 7, "（2023）最高法民申7号"),
        ("（2025）鲁民终3号", 2025, "鲁", "民终", 3, "（2025）鲁民终3号"),  # a high court has no digits
        ("（2025）京0108执恢123号", 2025, "京0108", "执恢", 123, "（2025）京0108执恢123号"),
    ],
)
def test_parse(raw: str, year: int, court: str, case_type: str, sequence: int, text: str) -> None:
    parsed = CaseNumber.parse(raw)
    assert (parsed.year, parsed.court_code, parsed.case_type, parsed.sequence, parsed.text) == (year, court, case_type, sequence, text)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2024鲁1002民初1234号", "must look like"),
        ("（2024）鲁1002民初1234", "must look like"),
        ("（24）鲁1002民初1234号", "must look like"),
        ("（2024）1002民初1234号", "must look like"),
        ("（2024）鲁1002民初号", "must look like"),
        ("（1985）鲁1002民初1号", "before 1990"),
        ("（2024）鲁1002民初0号", "at least 1"),
    ],
)
def test_parse_refuses(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CaseNumber.parse(raw)


def test_leading_zeros_do_not_make_another_case() -> None:
    assert CaseNumber.parse("（2026）鲁1002民初0999号").key == CaseNumber.parse("(2026)鲁1002民初999号").key
    assert CaseNumber.parse("（2026）鲁1002民初999号").key != CaseNumber.parse("（2026）鲁1002民终999号").key


@pytest.mark.parametrize(
    ("raw", "province", "city", "district", "rest"),
    [
        ("山东省威海市环翠区新威路17号", "山东省", "威海市", "环翠区", "新威路17号"),
        ("山东省 威海市 环翠区 新威路１７号", "山东省", "威海市", "环翠区", "新威路17号"),
        ("中国山东省威海市荣成市石岛镇海港路8号", "山东省", "威海市", "荣成市", "石岛镇海港路8号"),
        ("北京市海淀区中关村大街27号", "北京市", "北京市", "海淀区", "中关村大街27号"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放北路1号", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放北路1号"),
        ("延边朝鲜族自治州延吉市人民路5号", None, "延边朝鲜族自治州", "延吉市", "人民路5号"),
        ("新威路17号", None, None, None, "新威路17号"),
    ],
)
def test_address_parts(raw: str, province: str | None, city: str | None, district: str | None, rest: str) -> None:
    address = PostalAddress.parse(raw)
    assert (address.province, address.city, address.district, address.rest) == (province, city, district, rest)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("山东省威海市环翠区新威路17号", "山东省 威海市 环翠区 新威路１７号", True),
        ("山东省威海市环翠区新威路17号", "威海市环翠区新威路17号。", True),  # province omitted, trailing full stop
        ("山东省威海市环翠区新威路17号", "山东省威海市环翠区新威路18号", False),
        ("山东省威海市环翠区新威路17号", "山东省威海市文登区新威路17号", False),
    ],
)
def test_one_place_two_spellings(a: str, b: str, same: bool) -> None:
    assert (PostalAddress.parse(a).key == PostalAddress.parse(b).key) is same
