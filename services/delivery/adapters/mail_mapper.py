"""The receiving mail server's answer in the domain's words: arrival, or a refusal that makes the mailbox unusable (a pure mapper)."""

from __future__ import annotations

from datetime import datetime

from services.delivery.adapters.mail import MailResult
from services.delivery.domain.inputs import Arrived, Failure, Input, NotArrived
from shared.contracts.events import Transmission


def answer_input(attempt_id: str, mailed: MailResult, *, sender: str, receiver: str, at: datetime) -> Input:
    """Turns the server's answer into an input: accepted is arrival (Interp. 135), a permanent refusal never to be tried again."""
    arrived = datetime.fromisoformat(mailed.accepted_at) if mailed.accepted_at else at
    record = Transmission(
        provider="smtp",
        provider_ref=mailed.message_id,
        sender=sender,
        receiver=receiver,
        status="accepted" if mailed.accepted else "rejected",
        sent_at=arrived,
        arrived_at=arrived if mailed.accepted else None,
        documents=[],
    )
    if mailed.accepted:
        # Accepted by the receiving mail server: the message reached the recipient's system (Interp. 135).
        return Arrived(attempt_id=attempt_id, at=arrived, record=record)
    return NotArrived(attempt_id=attempt_id, at=at, status="rejected", failure=Failure.unusable, record=record)
