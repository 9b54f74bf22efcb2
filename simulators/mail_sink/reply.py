"""Replies: the answer a recipient writes to a message the sink holds, posted signed to delivery's inbound webhook as a mail server's pipe hands one over."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from simulators.mail_sink.bounce import HOST
from simulators.mail_sink.received import ReceivedMail


def reply_for(mail: ReceivedMail, *, text: str, at: datetime, automatic: bool = False) -> bytes:
    """Returns the reply the message's addressee sends: In-Reply-To and References name the message (RFC 5322 3.6.4); an automatic one says so (RFC 3834)."""
    reply = EmailMessage()
    reply["From"] = mail.to
    reply["To"] = mail.sender
    reply["Subject"] = f"Re: {mail.subject}"
    reply["Date"] = format_datetime(at)
    reply["Message-ID"] = make_msgid(domain=HOST)
    if mail.message_id:
        reply["In-Reply-To"] = mail.message_id
        reply["References"] = mail.message_id
    if automatic:
        reply["Auto-Submitted"] = "auto-replied"
    reply.set_content(text)
    return reply.as_bytes(policy=SMTP)
