"""Twilio's words in the domain's: its error codes as failure reasons, its answers and statuses as inputs of the state machine (a pure mapper)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.delivery.adapters.twilio import ProviderResult
from services.delivery.domain.inputs import Accepted, Arrived, Failure, Input, NotArrived
from shared.contracts.events import Transmission

# Twilio's error codes: 30003 unreachable handset; 30006 landline or unreachable carrier; 21614 and
# 21635 not a mobile number; 21211 invalid number; 30005 unknown destination handset. Any other is a plain miss.
FAILURES: dict[int, Failure] = {
    30003: Failure.retry,
    30006: Failure.landline,
    21614: Failure.landline,
    21635: Failure.landline,
    21211: Failure.unusable,
    30005: Failure.unusable,
}
# Final statuses of a message (delivered, undelivered, failed) or a call (completed, no-answer, busy, failed, canceled).
ARRIVED = frozenset({"delivered", "completed"})
NOT_ARRIVED = frozenset({"undelivered", "failed", "no-answer", "busy", "canceled"})


def is_final(status: str) -> bool:
    """Tells whether a message's or call's status decides its attempt; queued, sent, ringing and the like do not."""
    return status in ARRIVED or status in NOT_ARRIVED


def failure_of(error_code: int | None) -> Failure:
    """Returns what a Twilio error code means for the plan."""
    return FAILURES.get(error_code or 0, Failure.move_on)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def answer_input(attempt_id: str, sent: ProviderResult, *, at: datetime) -> Input:
    """Turns Twilio's answer to a send into an input: taken under its reference, or refused."""
    if sent.accepted and sent.provider_ref:
        return Accepted(attempt_id=attempt_id, provider_ref=sent.provider_ref)
    return NotArrived(attempt_id=attempt_id, at=at, status=sent.status, failure=failure_of(sent.error_code), error_code=sent.error_code)


def status_input(attempt_id: str, params: dict[str, str], *, target: str, sent_at: datetime, documents: Sequence[str], at: datetime) -> Input | None:
    """Turns a final status (a callback's or a status check's parameters) into an input; intermediate ones (queued, sent, ringing) into none."""
    status = params.get("MessageStatus") or params.get("CallStatus") or ""
    record = Transmission(
        provider="twilio",
        provider_ref=params.get("MessageSid") or params.get("CallSid"),
        sender=params.get("From"),
        receiver=params.get("To") or target,
        status=status,
        sent_at=sent_at,
        arrived_at=at if status in ARRIVED else None,
        error_code=_int(params.get("ErrorCode")),
        duration_s=_int(params.get("CallDuration")),
        recording_ref=params.get("RecordingSid"),
        documents=list(documents),
    )
    if status in ARRIVED:
        return Arrived(attempt_id=attempt_id, at=at, record=record)
    if status in NOT_ARRIVED:
        return NotArrived(attempt_id=attempt_id, at=at, status=status, failure=failure_of(record.error_code), error_code=record.error_code, record=record)
    return None
