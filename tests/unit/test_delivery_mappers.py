"""The providers' words in the domain's: Twilio's error codes and statuses, and the mail server's answer, as inputs of the state machine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.delivery.adapters import mail_mapper, twilio_mapper
from services.delivery.adapters.mail import MailResult
from services.delivery.adapters.twilio import ProviderResult
from services.delivery.domain.inputs import Accepted, Arrived, Failure, NotArrived

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        (30003, Failure.retry),
        (30006, Failure.landline),
        (21614, Failure.landline),
        (21635, Failure.landline),
        (21211, Failure.unusable),
        (30005, Failure.unusable),
        (30008, Failure.move_on),
        (None, Failure.move_on),
    ],
)
def test_twilio_error_codes(code: int | None, failure: Failure) -> None:
    assert twilio_mapper.failure_of(code) is failure


def test_a_taken_message_waits_under_its_reference_and_a_refused_one_fails_with_its_meaning() -> None:
    assert twilio_mapper.answer_input("a-1", ProviderResult(accepted=True, provider_ref="SM1", status="queued"), at=AT) == Accepted(attempt_id="a-1", provider_ref="SM1")
    refused = twilio_mapper.answer_input("a-1", ProviderResult(accepted=False, provider_ref=None, status="failed", error_code=21211), at=AT)
    assert isinstance(refused, NotArrived) and (refused.failure, refused.error_code, refused.status) == (Failure.unusable, 21211, "failed")


@pytest.mark.parametrize(
    ("params", "kind", "failure"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, Arrived, None),
        ({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "31"}, Arrived, None),
        ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}, NotArrived, Failure.retry),
        ({"CallSid": "CA1", "CallStatus": "no-answer"}, NotArrived, Failure.move_on),
        ({"CallSid": "CA1", "CallStatus": "busy"}, NotArrived, Failure.move_on),
        ({"MessageSid": "SM1", "MessageStatus": "sent"}, None, None),
        ({"CallSid": "CA1", "CallStatus": "ringing"}, None, None),
    ],
)
def test_twilio_statuses(params: dict[str, str], kind: type | None, failure: Failure | None) -> None:
    event = twilio_mapper.status_input("a-1", params, target="+8613800138000", sent_at=AT, documents=["传票"], at=AT)
    if kind is None:
        assert event is None
        return
    assert isinstance(event, kind)
    assert event.record is not None and event.record.receiver == "+8613800138000" and event.record.documents == ["传票"]
    if isinstance(event, NotArrived):
        assert event.failure is failure


def test_mail_accepted_arrives_when_the_server_took_it_and_a_refusal_makes_the_mailbox_unusable() -> None:
    taken = mail_mapper.answer_input(
        "a-1", MailResult(accepted=True, message_id="<a-1@songda>", accepted_at="2026-11-23T02:00:00+00:00"), sender="s@court", receiver="z@x.cn", at=AT
    )
    assert isinstance(taken, Arrived) and taken.at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    refused = mail_mapper.answer_input("a-1", MailResult(accepted=False, message_id="<a-1@songda>", error="550", permanent=True), sender="s@court", receiver="z@x.cn", at=AT)
    assert isinstance(refused, NotArrived) and refused.failure is Failure.unusable and refused.status == "rejected"
