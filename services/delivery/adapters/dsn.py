"""Bounces: a delivery status notification (RFC 3464) read with the `email` package, mapped onto the domain's failures, and the HMAC a mail server's pipe signs it with."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.policy import default

from services.delivery.domain.inputs import Failure, NotArrived

# Delivery's own e-mails carry Message-ID <attempt id@songda> (handlers/sending.py); the bounce names it back.
ATTEMPT = re.compile(r"<([0-9a-f-]{36})@songda>")

# RFC 3464 Action "failed": the receiving side gave up. RFC 3463 status classes: 5 permanent (the mailbox or
# domain does not exist, never again), 4 persistent transient (the server retried until it gave up: next channel).
# "delayed", "delivered", "relayed" and "expanded" decide nothing.
FAILURES: dict[str, Failure] = {"5": Failure.unusable, "4": Failure.move_on}


class NotADsn(ValueError):
    """The body is not a delivery status notification about one of delivery's e-mails."""


@dataclass(frozen=True)
class Bounce:
    """What the receiving server reported for one recipient of one of delivery's e-mails, as it wrote it."""

    attempt_id: str
    action: str
    status: str
    diagnostic: str | None
    final_recipient: str | None


def parse(raw: bytes) -> Bounce:
    """Reads a multipart/report of report-type delivery-status: the first recipient's fields and the original Message-ID."""
    message = email.message_from_bytes(raw, policy=default)
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "delivery-status":
        raise NotADsn("not a multipart/report of report-type delivery-status")
    fields: list[Message] = []
    original: str | None = None
    for part in message.iter_parts() if isinstance(message, EmailMessage) else ():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            fields = [block for block in part.get_payload() if isinstance(block, Message)]
        elif kind == "text/rfc822-headers":
            original = HeaderParser().parsestr(part.get_content()).get("Message-ID")
        elif kind == "message/rfc822":
            returned = next(iter(part.iter_parts()), None)
            original = returned.get("Message-ID") if returned is not None else None
    # The first block holds the per-message fields, each later one a recipient's (RFC 3464 section 2.1).
    recipients = [block for block in fields[1:] if block.get("Action")]
    if not recipients:
        raise NotADsn("no per-recipient fields with an Action")
    found = ATTEMPT.search(str(original or ""))
    if found is None:
        raise NotADsn("the returned headers name no message of delivery's")
    first = recipients[0]
    return Bounce(
        attempt_id=found.group(1),
        action=str(first.get("Action", "")).strip().lower(),
        status=str(first.get("Status", "")).strip(),
        diagnostic=_value(first.get("Diagnostic-Code")),
        final_recipient=_value(first.get("Final-Recipient")),
    )


def _value(field: object) -> str | None:
    """The value of a typed field (`smtp; 550 …`, `rfc822; a@b`) without its type, folded onto one line."""
    if field is None:
        return None
    text = " ".join(str(field).split())
    return text.split(";", 1)[1].strip() if ";" in text else text


def bounce_input(bounce: Bounce, *, at: datetime) -> NotArrived | None:
    """Turns a failed delivery into the attempt's failure with the server's reason; anything else into nothing."""
    failure = FAILURES.get(bounce.status[:1]) if bounce.action == "failed" else None
    if failure is None:
        return None
    return NotArrived(attempt_id=bounce.attempt_id, at=at, status=f"退信：{bounce.diagnostic or bounce.status}", failure=failure)
