"""Every way a notice, confirmation or lookup can be wrong is named by its field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.intake.requests import ConfirmationIn, LookupIn, NoticeIn
from shared.plumbing.problems import validation_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOTICE = json.loads((EXAMPLES / "notice.json").read_text())
CONFIRMATION = json.loads((EXAMPLES / "confirmation.json").read_text())


def errors(model: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {e["field"]: e["message"] for e in validation_problem(caught.value.errors()).errors}


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = body
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return body


DELETE = object()


def test_the_examples_are_valid() -> None:
    notice = NoticeIn.model_validate(NOTICE)
    assert notice.recipients[0].phones[0].e164 == "+8613800138000"
    assert ConfirmationIn.model_validate(CONFIRMATION).e_delivery.channels[0].address == "+8613800138000"


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ("case_number", "2024鲁1002民初1234号", "case_number", "must look like"),
        ("case_number", "（2024）鲁1002民初0号", "case_number", "at least 1"),
        ("stage", "appeal", "stage", "type code says first_instance"),
        ("stage", "cassation", "stage", "Input should be"),
        ("earlier_case_numbers", ["nonsense"], "earlier_case_numbers[0]", "must look like"),
        ("recipients.0.id_number", "371002198503124211", "recipients[0].id_number", "check digit"),
        ("recipients.0.id_number", "37100219850312421", "recipients[0].id_number", "18 characters"),
        ("recipients.0.id_type", DELETE, "recipients[0].id_number", "id_type"),
        ("recipients.0.phones", ["12345"], "recipients[0].phones[0]", "not a valid number"),
        ("recipients.0.phones", ["0631-5221234 ext. 8"], "recipients[0].phones[0]", "extension"),
        ("recipients.0.emails", ["zhangsan@"], "recipients[0].emails[0]", "email"),
        ("recipients.0.addresses.0.postcode", "2642", "recipients[0].addresses[0].postcode", "pattern"),
        ("recipients.0.addresses.0.source_case", "x", "recipients[0].addresses[0].source_case", "must look like"),
        ("recipients.0.kind", "robot", "recipients[0].kind", "Input should be"),
        ("documents", [], "documents", "at least 1"),
        ("court_id", "c-1", "court_id", "pattern"),
        ("recipients.0.nickname", "三儿", "recipients[0].nickname", "Extra inputs"),
    ],
)
def test_notice_errors_name_the_field(path: str, value: Any, field: str, message: str) -> None:
    found = errors(NoticeIn, changed(NOTICE, path, value))
    assert field in found, found
    assert message in found[field]


def test_an_organisation_code_is_checked() -> None:
    body = changed(changed(NOTICE, "recipients.0.id_type", "uscc"), "recipients.0.id_number", "91371002MA3C5Y8K04")
    assert "check character" in errors(NoticeIn, body)["recipients[0].id_number"]
    valid = changed(body, "recipients.0.id_number", "91371002MA3C5Y8K03")
    assert NoticeIn.model_validate(valid).recipients[0].id_number == "91371002MA3C5Y8K03"


def test_a_recipient_without_an_id_number_is_accepted() -> None:
    body = changed(changed(NOTICE, "recipients.0.id_type", DELETE), "recipients.0.id_number", DELETE)
    assert NoticeIn.model_validate(body).recipients[0].id_number is None


def test_landlines_are_classified() -> None:
    notice = NoticeIn.model_validate(changed(NOTICE, "recipients.0.phones", ["0631-5221234", "13800138000"]))
    assert [p.line_type for p in notice.recipients[0].phones] == ["fixed_line", "mobile"]


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ("case_number", "（2026）鲁1002民初999", "case_number", "must look like"),
        ("party.id_number", "371002198503124211", "party.id_number", "check digit"),
        ("address.text", "", "address.text", "at least 4"),
        ("phone", "phone", "phone", "phone"),
        ("e_delivery.channels.0.address", "0631-5221234", "e_delivery.channels[0].address", "mobile"),
        ("e_delivery.channels.1.address", "not-an-email", "e_delivery.channels[1].address", "email"),
        ("e_delivery.channels.0.channel", "wechat", "e_delivery.channels[0].channel", "Input should be"),
        ("e_delivery.consent", False, "e_delivery", "consent is false"),
        ("confirmed_at", "2026-02-30", "confirmed_at", "date"),
        ("stage", "enforcement", "stage", "type code says first_instance"),
    ],
)
def test_confirmation_errors_name_the_field(path: str, value: Any, field: str, message: str) -> None:
    found = errors(ConfirmationIn, changed(CONFIRMATION, path, value))
    assert field in found, found
    assert message in found[field]


def test_lookup_errors_name_the_field() -> None:
    found = errors(LookupIn, {"party": {"name": "张三", "kind": "person", "id_type": "resident_id", "id_number": "371002198503124211"}, "phones": ["1"], "purpose": "核实送达地址"})
    assert set(found) == {"party.id_number", "phones[0]"}
