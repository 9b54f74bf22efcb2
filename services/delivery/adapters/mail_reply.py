"""Replies by e-mail: a message the mail server's pipe hands over (signed as a bounce is, adapters/dsn.py) that answers one of delivery's e-mails."""

from __future__ import annotations

import email
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from email.utils import parseaddr

from services.delivery.adapters.dsn import ATTEMPT


class NotAReply(ValueError):
    """The body is not a reply to one of delivery's e-mails."""


@dataclass(frozen=True)
class MailReply:
    """Who answered which attempt's e-mail, under which Message-ID, whether a machine wrote it, and its plain text."""

    attempt_id: str
    key: str
    sender: str
    automatic: bool
    text: str


# RFC 3834: an answer a machine wrote (vacation notice, auto-reply) carries Auto-Submitted other than "no";
# older systems say so in Precedence. Nobody read the documents, so it is not the recipient's reply.
_AUTOMATIC_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk", "list"})


def parse(raw: bytes) -> MailReply:
    """Reads the reply: the attempt its In-Reply-To (else References) names as <attempt id@songda>, its sender and plain text."""
    message = email.message_from_bytes(raw, policy=default)
    if message.get_content_type() == "multipart/report":
        raise NotAReply("a delivery status notification, which goes to /webhooks/mail/dsn")
    found = ATTEMPT.search(str(message.get("In-Reply-To") or "")) or ATTEMPT.search(str(message.get("References") or ""))
    if found is None:
        raise NotAReply("In-Reply-To and References name no message of delivery's")
    sender = parseaddr(str(message.get("From") or ""))[1]
    if not sender:
        raise NotAReply("no From address")
    automatic = str(message.get("Auto-Submitted") or "no").strip().lower() != "no" or str(message.get("Precedence") or "").strip().lower() in _AUTOMATIC_PRECEDENCE
    text = _text(message)
    # A reply without a Message-ID is recognised again by its bytes.
    key = str(message.get("Message-ID") or "").strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    return MailReply(attempt_id=found.group(1), key=key, sender=sender, automatic=automatic, text=text)


def _text(message: email.message.Message) -> str:
    """The reply's plain text part, its line ends as "\n" and trimmed (the wire's CRLF does not change its hash), empty when it has none."""
    part = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
    return str(part.get_content()).replace("\r\n", "\n").strip() if part is not None else ""
