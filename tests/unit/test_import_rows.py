"""The importer's plain reading of a line agrees with ImportRow on every cell it takes, and leaves refusals to ImportRow."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake import book
from services.intake.importer import ImportRow, _reason, channels, checked_row
from services.intake.requests import ChannelIn

PARTY = {
    "record": "party",
    "name": "李欢",
    "party_kind": "person",
    "id_type": "resident_id",
    "id_number": "320508200005249227",
    "phone": "13800138000",
    "email": "huanli895@example.com.cn",
    "address": "江苏省苏州市姑苏区十全街57号20号楼3单元2902室",
    "postcode": "215008",
    "lat": "31.32160",
    "lon": "120.61641",
    "source": "household",
    "date": "2025-09-15",
}
CASE = PARTY | {"record": "case", "source": "filing", "case_number": "(2025)闽0102民初1号", "role": "plaintiff", "e_delivery": "sms=13800138000"}
CELLS: list[tuple[str, Any]] = [
    ("name", " 李欢"),
    ("name", "x" * 201),
    ("name", ""),
    ("party_kind", "robot"),
    ("id_number", "320508200005249228"),
    ("phone", "+86 138 0013 8000"),
    ("phone", "12"),
    ("email", "bad@"),
    ("address", "abc"),
    ("postcode", "１２３４５６"),
    ("postcode", "21500"),
    ("lat", 31),
    ("lat", "91"),
    ("lat", "1e1"),
    ("lat", True),
    ("lon", float("nan")),
    ("source", "filing"),
    ("date", "2025-02-30"),
    ("date", "2025-9-15"),
    ("case_number", "（2025）闽0102民初0号"),
    ("stage", "appeal"),
    ("e_delivery", "fax=1"),
    ("extra", "x"),
    ("record", None),
]


def outcome(read: Any, line: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "accepted", {name: (type(value), value) for name, value in read(line).items()}
    except (ValueError, ValidationError) as error:
        return "refused", _reason(error)


@pytest.mark.parametrize("base", [PARTY, CASE], ids=["party", "case"])
@pytest.mark.parametrize(("name", "value"), CELLS)
def test_a_line_reads_as_import_row_reads_it(base: dict[str, Any], name: str, value: Any) -> None:
    line = base | {name: value}
    assert outcome(checked_row, line) == outcome(lambda cells: dict(vars(ImportRow.model_validate(cells))), line)


def test_content_id_is_the_uuid5_of_its_parts() -> None:
    # Enough ids that every variant digit (the 17th hex digit, 16 possible) turns up.
    many = [("party", str(n)) for n in range(300)]
    for parts in [("id", "resident_id", "320508200005249227"), ("entry", "x", None, date(2025, 1, 1), [{"channel": "sms"}]), (), *many]:
        assert book.content_id(*parts) == str(uuid.uuid5(book._NAMESPACE, "|".join("" if p is None else str(p) for p in parts)))


CHANNELS = [
    "sms=13800138000",
    "sms=+8613800138000",
    "sms=008613800138000",
    "sms=1380013800",
    "sms=12345678901",
    "sms=010-62345678",
    "sms=1380013800x",
    "email=huanli895@example.com.cn",
    "email=Huan.Li@EXAMPLE.COM",
    "email=a@b",
    "email=no-at-sign.example.com",
    "email=li@localhost",
    "email=" + "x" * 195 + "@a.cn",
    "lawyer_firm=firm-1",
    "fax=1",
    "sms=13800138000; email=huanli895@example.com.cn",
]


@pytest.mark.parametrize("text", CHANNELS)
def test_e_delivery_reads_as_channel_in_reads_it(text: str) -> None:
    def by_model(text: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(";"))):
            channel, _, address = (piece.strip() for piece in part.partition("="))
            checked = ChannelIn(channel=channel, address=address)
            pairs.append((checked.channel.value, checked.address))
        return tuple(pairs)

    def outcome_of(read: Any) -> tuple[str, Any]:
        try:
            return "accepted", read(text)
        except (ValueError, ValidationError):
            return "refused", None

    assert outcome_of(channels) == outcome_of(by_model)
