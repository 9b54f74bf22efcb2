"""Consent forms (OLR Art. 29) as the API takes them, and which firm's standing agreement serves a represented party."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.intake import book, domain, notices
from services.intake.domain import FirmAgreement
from services.intake.firms import FirmIn, checked_uscc
from services.intake.requests import ConfirmationIn, NoticeIn
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import Consent, ConsentForm, EDeliveryChannel
from shared.contracts.values import uscc_check_char
from shared.plumbing.problems import Problem, validation_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOTICE = json.loads((EXAMPLES / "notice.json").read_text())
CONFIRMATION = json.loads((EXAMPLES / "confirmation.json").read_text())
FIRM = "31370000MD012345" + "6" + uscc_check_char("31370000MD0123456")
SHA = "a" * 64


def errors(model: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {e["field"]: e["message"] for e in validation_problem(caught.value.errors()).errors}


def with_channel(channel: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(CONFIRMATION)
    body["e_delivery"] = {"consent": True, "channels": [{"channel": "email", "address": "zhangsan@example.com", **channel}]}
    return body


# Each form: what it must show (OLR Art. 29), and what is refused, naming the field.
FORMS: list[tuple[dict[str, Any], str | None]] = [
    ({}, None),
    ({"form": "express"}, None),
    ({"form": "express", "address_confirmed": False}, None),
    ({"form": "pre_agreed", "source": "借款合同第12条"}, None),
    ({"form": "pre_agreed", "source": "借款合同第12条", "address_confirmed": False}, None),
    ({"form": "pre_agreed"}, "e_delivery.channels[0].source"),
    ({"form": "own_filing", "source": "起诉状"}, None),
    ({"form": "own_filing"}, "e_delivery.channels[0].source"),
    ({"form": "own_filing", "source": "起诉状", "address_confirmed": False}, "e_delivery.channels[0].address_confirmed"),
    ({"form": "accepted_earlier", "source": "2026-05-01 电子送达后当事人回复"}, None),
    ({"form": "accepted_earlier"}, "e_delivery.channels[0].source"),
    ({"form": "implied"}, "e_delivery.channels[0].form"),
]


@pytest.mark.parametrize(("terms", "refused"), FORMS)
def test_each_form_of_consent_is_checked_in_a_confirmation(terms: dict[str, Any], refused: str | None) -> None:
    body = with_channel(terms)
    if refused is None:
        consent = ConfirmationIn.model_validate(body).e_delivery
        assert consent is not None
        assert consent.channels[0].form == terms.get("form", "express")
        assert consent.channels[0].address_confirmed is terms.get("address_confirmed", True)
    else:
        assert list(errors(ConfirmationIn, body)) == [refused]


@pytest.mark.parametrize(("terms", "refused"), FORMS)
def test_each_form_of_consent_is_checked_on_a_notice(terms: dict[str, Any], refused: str | None) -> None:
    body = copy.deepcopy(NOTICE)
    body["recipients"][0]["e_delivery"] = with_channel(terms)["e_delivery"]
    if refused is None:
        NoticeIn.model_validate(body)
    else:
        assert list(errors(NoticeIn, body)) == [f"recipients[0].{refused}"]


def test_a_default_consent_is_stored_as_before_forms_were_kept() -> None:
    express = ConfirmationIn.model_validate(with_channel({})).e_delivery
    agreed = ConfirmationIn.model_validate(with_channel({"form": "pre_agreed", "source": "借款合同第12条", "address_confirmed": False})).e_delivery
    assert express is not None and agreed is not None
    assert express.channels[0].terms() == {"channel": "email", "address": "zhangsan@example.com"}
    assert agreed.channels[0].terms() == {
        "channel": "email",
        "address": "zhangsan@example.com",
        "form": "pre_agreed",
        "source": "借款合同第12条",
        "address_confirmed": False,
    }


def test_a_confirmation_keeps_each_consent_s_form_and_an_express_one_keeps_its_id() -> None:
    body = with_channel({"form": "pre_agreed", "source": "借款合同第12条", "address_confirmed": False})
    confirmation = ConfirmationIn.model_validate(body)
    assert confirmation.e_delivery is not None

    def row(channels: list[dict[str, Any]]) -> dict[str, Any]:
        return book.confirmation_row(
            party_id="p-1",
            case=CaseNumber.parse(confirmation.case_number),
            stage=confirmation.stage,
            address=PostalAddress.parse(confirmation.address.text),
            postcode=None,
            location=None,
            phone=None,
            e_delivery=channels,
            designated_proxy=None,
            confirmed_on=confirmation.confirmed_at,
            origin="api",
            now=datetime(2026, 6, 1, tzinfo=UTC),
        )

    stored = row([c.terms() for c in confirmation.e_delivery.channels])
    (consent,) = book.confirmation_fact(SimpleNamespace(**stored)).consent
    assert (consent.form, consent.source, consent.address_confirmed, consent.source_case) == (ConsentForm.pre_agreed, "借款合同第12条", False, confirmation.case_number)
    express = ConfirmationIn.model_validate(with_channel({})).e_delivery
    assert express is not None
    # A confirmation recorded before forms were kept has the same id when submitted again.
    assert row([c.terms() for c in express.channels])["id"] == row([{"channel": "email", "address": "zhangsan@example.com"}])["id"]


def test_a_notice_s_own_consent_comes_before_the_firm_s_and_the_book_s() -> None:
    def consent(address: str, form: ConsentForm, source: str | None = None) -> Consent:
        return Consent(channel=EDeliveryChannel.email, address=address, source_case="（2026）鲁1002民初1号", confirmed_on=date(2026, 1, 1), form=form, source=source)

    given = [consent("a@example.com", ConsentForm.own_filing, "起诉状")]
    firm = [consent("a@example.com", ConsentForm.pre_agreed, "协议"), consent("b@example.com", ConsentForm.pre_agreed, "协议")]
    book = [consent("b@example.com", ConsentForm.express), consent("c@example.com", ConsentForm.express)]
    merged = notices.merged_consent(given, firm, book)
    assert [(c.address, c.form) for c in merged] == [
        ("a@example.com", ConsentForm.own_filing),
        ("b@example.com", ConsentForm.pre_agreed),
        ("c@example.com", ConsentForm.express),
    ]


AGREEMENT = FirmAgreement(
    uscc=FIRM,
    name="山东某某律师事务所",
    email="songda@firm.example.cn",
    court_ids=frozenset({"C371002", "C371003"}),
    valid_from=date(2026, 1, 1),
    valid_to=date(2026, 12, 31),
    evidence_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
)


# OLR Art. 29(2): the firm's agreement serves its clients in the courts it covers, on the days it is in force (both ends included).
COVERS: list[tuple[str, str | None, str, date, bool]] = [
    ("first day", FIRM, "C371002", date(2026, 1, 1), True),
    ("last day", FIRM, "C371002", date(2026, 12, 31), True),
    ("in the middle, another covered court", FIRM, "C371003", date(2026, 6, 1), True),
    ("expired", FIRM, "C371002", date(2027, 1, 1), False),
    ("not yet valid", FIRM, "C371002", date(2025, 12, 31), False),
    ("a court it does not cover", FIRM, "C110105", date(2026, 6, 1), False),
    ("an unregistered firm", "91370000MA3C5Y8K03", "C371002", date(2026, 6, 1), False),
    ("no firm on the notice", None, "C371002", date(2026, 6, 1), False),
]


@pytest.mark.parametrize(("case", "firm", "court", "on", "covered"), COVERS, ids=[c[0] for c in COVERS])
def test_which_agreement_covers_a_notice(case: str, firm: str | None, court: str, on: date, covered: bool) -> None:
    found = domain.covering_agreement({FIRM: AGREEMENT}, firm_uscc=firm, court_id=court, on=on)
    assert (found is AGREEMENT) is covered, case


def test_the_firm_s_consent_names_its_agreement() -> None:
    consent = domain.firm_consent(AGREEMENT, court_name="威海市环翠区人民法院", case_number="（2026）鲁1002民初7号")
    assert consent.channel is EDeliveryChannel.lawyer_firm and consent.address == "songda@firm.example.cn"
    assert consent.form is ConsentForm.pre_agreed and consent.address_confirmed
    assert consent.confirmed_on == date(2026, 1, 1) and consent.source_case == "（2026）鲁1002民初7号"
    assert consent.source == "山东某某律师事务所与威海市环翠区人民法院的电子送达协议（有效期 2026-01-01 至 2026-12-31，协议存证 0f1e2d3c）"


def firm_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "agreement": {"evidence_id": "e-1", "sha256": SHA},
        "court_ids": ["C371002"],
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    return body | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-a-mailbox"}, "email"),
        ({"name": "律"}, "name"),
        ({"agreement": {"evidence_id": "e-1", "sha256": "xyz"}}, "agreement.sha256"),
        ({"agreement": {"sha256": SHA}}, "agreement.evidence_id"),
        ({"court_ids": ["c371002"]}, "court_ids[0]"),
        ({"court_ids": ["C371002", "C371002"]}, "court_ids"),
        ({"valid_to": "2025-12-31"}, "valid_to"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"phone": "13800138000"}, "phone"),
    ],
)
def test_a_firm_entry_s_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    assert list(errors(FirmIn, firm_body(**changes))) == [field]


def test_a_firm_entry_is_valid_on_its_first_and_last_day_alike() -> None:
    entry = FirmIn.model_validate(firm_body(valid_to="2026-01-01"))
    assert entry.valid_from == entry.valid_to and entry.inbox


def test_the_uscc_of_the_path_is_checked() -> None:
    assert checked_uscc(FIRM.lower()) == FIRM
    with pytest.raises(Problem) as refused:
        checked_uscc(FIRM[:-1] + ("0" if FIRM[-1] != "0" else "1"))
    assert [e["field"] for e in refused.value.errors] == ["uscc"]
