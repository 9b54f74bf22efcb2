"""Twilio's message and call statuses as inputs of the state machine, whether a callback brought them or a status check."""

from __future__ import annotations

from datetime import datetime

from services.delivery.domain.machine import Arrived, Input, NotArrived
from services.delivery.models import DeliveryAttempt
from shared.contracts.events import Transmission

# An attempt whose final status was applied; the dispatcher marks it sent, a callback or a check settles it.
SETTLED = "settled"
ARRIVED = frozenset({"delivered", "completed"})
FAILED = frozenset({"undelivered", "failed", "no-answer", "busy", "canceled"})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def to_input(attempt: DeliveryAttempt, params: dict[str, str], *, at: datetime) -> Input | None:
    """Turns a final status into an input of the machine; intermediate ones (queued, sent, ringing) into none."""
    status = params.get("MessageStatus") or params.get("CallStatus") or ""
    record = Transmission(
        provider="twilio",
        provider_ref=params.get("MessageSid") or params.get("CallSid"),
        sender=params.get("From"),
        receiver=params.get("To") or attempt.target or "",
        status=status,
        sent_at=attempt.started_at,
        arrived_at=at if status in ARRIVED else None,
        error_code=_int(params.get("ErrorCode")),
        duration_s=_int(params.get("CallDuration")),
        recording_ref=params.get("RecordingSid"),
        documents=list((attempt.message or {}).get("documents", [])),
    )
    if status in ARRIVED:
        return Arrived(attempt_id=attempt.id, at=at, record=record)
    if status in FAILED:
        return NotArrived(attempt_id=attempt.id, at=at, status=status, error_code=record.error_code, record=record)
    return None
