"""The synthetic data set: row shape, valid identities and phones, case numbers, dates, determinism and the mix."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from pydantic import EmailStr, TypeAdapter

from services.intake.synthetic import COLUMNS, rows
from shared.contracts.values import LineType, Phone, validate_resident_id, validate_uscc

TODAY = date(2026, 11, 23)
FIRST_DAY = TODAY - timedelta(days=729)
PARTIES = 2000
CASE_NUMBER = re.compile(r"^（(\d{4})）([\u4e00-\u9fff])(\d{2,4})(民初|民终|民再|执)(\d+)号$")
STAGE_OF_TYPE = {"民初": "first_instance", "民终": "appeal", "民再": "retrial", "执": "enforcement"}
ROLES_OF_STAGE = {
    "first_instance": {"plaintiff", "defendant", "third_party"},
    "appeal": {"plaintiff", "defendant", "third_party"},
    "retrial": {"applicant", "respondent"},
    "enforcement": {"applicant", "respondent"},
}
# Court code abbreviation of each GB/T 2260 province code, from the court-code standard itself.
ABBREVIATION = {
    "11": "京",
    "12": "津",
    "13": "冀",
    "14": "晋",
    "21": "辽",
    "22": "吉",
    "23": "黑",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "50": "渝",
    "51": "川",
    "52": "贵",
    "53": "云",
    "61": "陕",
    "62": "甘",
    "63": "青",
    "64": "宁",
    "65": "新",
}
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
EMAIL = TypeAdapter(EmailStr)


@pytest.fixture(scope="module")
def data() -> list[dict[str, str]]:
    return list(rows(PARTIES, seed=1, today=TODAY))


def by_party(data: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """Splits the rows at each household row, which opens a party."""
    parties: list[list[dict[str, str]]] = []
    for row in data:
        if row["source"] == "household":
            parties.append([])
        parties[-1].append(row)
    return parties


def region_of(row: dict[str, str]) -> str:
    return row["id_number"][:6] if row["id_type"] == "resident_id" else row["id_number"][2:8]


def test_every_row_has_exactly_the_columns_as_strings(data: list[dict[str, str]]) -> None:
    assert data[0]["source"] == "household"
    for row in data:
        assert tuple(row) == COLUMNS
        assert all(isinstance(value, str) for value in row.values())
        assert row["record"] in {"party", "case", "confirmation"}


def test_each_party_has_one_household_row_then_cases_each_followed_by_its_confirmations(data: list[dict[str, str]]) -> None:
    parties = by_party(data)
    assert len(parties) == PARTIES
    for party in parties:
        assert {row["id_number"] for row in party} == {party[0]["id_number"]}
        assert {row["name"] for row in party} == {party[0]["name"]}
        kinds = "".join("P" if row["record"] == "party" else "C" if row["record"] == "case" else "K" for row in party)
        assert re.fullmatch(r"P{1,2}(CK{0,2})+", kinds), kinds
        assert [row["source"] for row in party if row["record"] == "party"] in (["household"], ["household", "civil_activity"])
        assert 1 <= kinds.count("C") <= 3
        case = None
        for row in party:
            if row["record"] == "case":
                case = row
                assert row["source"] == "filing"
            elif row["record"] == "confirmation":
                assert case is not None
                assert row["source"] == "confirmation"
                assert (row["case_number"], row["stage"]) == (case["case_number"], case["stage"])
                assert case["date"] <= row["date"]


def test_identities_are_valid_and_unique(data: list[dict[str, str]]) -> None:
    households = [row for row in data if row["source"] == "household"]
    for row in households:
        if row["party_kind"] == "person":
            assert row["id_type"] == "resident_id"
            assert validate_resident_id(row["id_number"]) == row["id_number"]
            assert date(1950, 1, 1) <= date(int(row["id_number"][6:10]), int(row["id_number"][10:12]), int(row["id_number"][12:14])) <= date(2004, 12, 31)
            assert 2 <= len(row["name"]) <= 4
        else:
            assert row["party_kind"] == "organisation"
            assert row["id_type"] == "uscc"
            assert row["id_number"].startswith("91")
            assert validate_uscc(row["id_number"]) == row["id_number"]
            assert row["name"].endswith("有限公司")
    assert len({row["id_number"] for row in households}) == PARTIES


def test_phones_parse_and_emails_are_valid(data: list[dict[str, str]]) -> None:
    for phone in {row["phone"] for row in data}:
        parsed = Phone.parse(phone)
        assert (parsed.line_type is LineType.MOBILE) == phone.startswith("1"), phone
        assert re.fullmatch(r"1\d{10}|0\d{2,3}-\d{7,8}", phone), phone
    for email in {row["email"] for row in data} - {""}:
        assert EMAIL.validate_python(email) == email
        assert email.isascii() and re.search(r"@example\.(com|cn|net|org|com\.cn)$", email), email
    for row in data:
        if row["e_delivery"]:
            channels = dict(pair.split("=", 1) for pair in row["e_delivery"].split(";"))
            assert set(channels) <= {"sms", "email"} and channels
            if "sms" in channels:
                assert Phone.parse(channels["sms"]).can_receive_sms
            if "email" in channels:
                assert channels["email"] == row["email"]


def test_addresses_have_postcode_and_location_in_china(data: list[dict[str, str]]) -> None:
    for row in data:
        assert re.fullmatch(r"\d{6}", row["postcode"])
        assert 18 < float(row["lat"]) < 54 and 73 < float(row["lon"]) < 135
        assert re.search(r"[路街道][0-9０-９]+号", row["address"]), row["address"]


def test_a_place_written_again_is_sometimes_written_another_way(data: list[dict[str, str]]) -> None:
    addresses = [row["address"] for row in data]
    assert any(re.search(r"[０-９]", address) for address in addresses)
    assert any(" " in address for address in addresses)
    # The province left off: the address opens with a prefecture-level city, not a municipality.
    assert any(re.match(r"^[^省市区\s]{2,3}市", address) and not address.startswith(MUNICIPALITIES) for address in addresses)


def test_case_numbers_match_the_stage_court_and_year(data: list[dict[str, str]]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for row in data:
        if row["record"] == "party":
            assert row["case_number"] == row["stage"] == row["role"] == ""
            continue
        match = CASE_NUMBER.match(row["case_number"])
        assert match, row["case_number"]
        year, province, court, type_code, _ = match.groups()
        owners[row["case_number"]].add(row["id_number"])
        assert STAGE_OF_TYPE[type_code] == row["stage"]
        # The courts of the party's own district: the basic court for first instance and enforcement,
        # else the intermediate court, numbered after the city except in a municipality.
        region = region_of(row)
        assert province == ABBREVIATION[region[:2]]
        if row["stage"] in ("first_instance", "enforcement"):
            assert court == region[2:6]
        else:
            assert court == region[2:4] or (len(court) == 2 and region[:2] in ("11", "12", "31", "50"))
        if row["record"] == "case":
            assert year == row["date"][:4]
            assert row["role"] in ROLES_OF_STAGE[row["stage"]]
        else:
            assert row["role"] == ""
    assert all(len(parties) == 1 for parties in owners.values())


def test_dates_lie_in_the_two_years_before_today(data: list[dict[str, str]]) -> None:
    for row in data:
        if row["source"] == "household" and row["date"] == "":
            continue
        assert FIRST_DAY <= date.fromisoformat(row["date"]) <= TODAY
    confirmations = Counter((row["id_number"], row["case_number"]) for row in data if row["record"] == "confirmation")
    filed = {(row["id_number"], row["case_number"]): date.fromisoformat(row["date"]) for row in data if row["record"] == "case"}
    for row in data:
        if row["record"] == "confirmation" and confirmations[row["id_number"], row["case_number"]] == 1:
            assert date.fromisoformat(row["date"]) - filed[row["id_number"], row["case_number"]] <= timedelta(days=20)


def test_a_later_confirmation_supersedes_with_another_address(data: list[dict[str, str]]) -> None:
    confirmations: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in data:
        if row["record"] == "confirmation":
            confirmations[row["id_number"], row["case_number"]].append(row)
    twice = [pair for pair in confirmations.values() if len(pair) > 1]
    assert 0.015 * PARTIES <= len(twice) <= 0.05 * PARTIES
    for first, later in twice:
        assert first["date"] < later["date"]
        assert first["address"] != later["address"]


def test_the_mix_is_roughly_right(data: list[dict[str, str]]) -> None:
    households = [row for row in data if row["source"] == "household"]
    records = Counter(row["record"] for row in data)
    sources = Counter(row["source"] for row in data)
    stages = Counter(row["stage"] for row in data if row["record"] == "case")
    confirmations = [row for row in data if row["record"] == "confirmation"]
    assert 0.10 <= sum(row["party_kind"] == "organisation" for row in households) / PARTIES <= 0.20
    assert 0.25 <= sources["civil_activity"] / PARTIES <= 0.35
    assert 1.5 <= records["case"] / PARTIES <= 1.7
    assert 0.45 <= records["confirmation"] / records["case"] <= 0.58
    assert 0.65 <= stages["first_instance"] / records["case"] <= 0.75
    assert all(stages[stage] > 0 for stage in ROLES_OF_STAGE)
    assert 0.85 <= sum(row["phone"].startswith("1") for row in households) / PARTIES <= 0.95
    assert 0.25 <= sum(row["email"] != "" for row in households) / PARTIES <= 0.35
    assert 0.33 <= sum(row["e_delivery"] != "" for row in confirmations) / len(confirmations) <= 0.47
    assert 0 < sum(row["designated_proxy"] != "" for row in confirmations) < 0.1 * len(confirmations)
    assert any("sms=" in row["e_delivery"] and "email=" in row["e_delivery"] for row in confirmations)


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(data: list[dict[str, str]]) -> None:
    assert list(rows(PARTIES, seed=1, today=TODAY)) == data
    assert list(rows(PARTIES, seed=2, today=TODAY)) != data


def test_no_parties_no_rows_and_a_negative_count_is_refused() -> None:
    assert list(rows(0, today=TODAY)) == []
    with pytest.raises(ValueError):
        list(rows(-1, today=TODAY))
