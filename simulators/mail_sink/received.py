"""A received message as the sink shows it, read from the raw bytes with the standard `email` package."""

from __future__ import annotations

import email
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any


@dataclass(frozen=True)
class ReceivedMail:
    """One message: its headers, its text and HTML bodies, its size and when it arrived."""

    id: str
    sender: str
    to: str
    subject: str
    date: str | None
    message_id: str | None
    text: str
    html: str | None
    size: int
    received_at: datetime

    def json(self) -> dict[str, Any]:
        """Returns the message as `GET /api/messages` lists it."""
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "date": self.date,
            "message_id": self.message_id,
            "size": self.size,
            "received_at": self.received_at.isoformat(),
            "text": self.text,
            "html": self.html,
        }


def parse(raw: bytes, *, mail_id: str, recipients: Sequence[str], received_at: datetime) -> ReceivedMail:
    """Reads a message from its raw bytes; the envelope's recipients stand in for a missing To header."""
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return ReceivedMail(
        id=mail_id,
        sender=str(message.get("From", "")),
        to=str(message.get("To") or ", ".join(recipients)),
        subject=str(message.get("Subject", "")),
        date=_header(message, "Date"),
        message_id=_header(message, "Message-ID"),
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
        size=len(raw),
        received_at=received_at,
    )


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value)


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except LookupError:
        # A charset Python does not know; the developer still wants to read what came.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    # A body sent unencoded keeps SMTP's CRLF line ends; the page and the API show lines as written.
    return content.replace("\r\n", "\n")
