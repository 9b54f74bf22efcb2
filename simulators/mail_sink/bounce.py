"""Bounces: a delivery status notification (RFC 3464) for a message the sink accepted, posted signed to delivery's webhook."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from email.message import Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

import httpx
import structlog

from shared.contracts import mail_wire

log = structlog.get_logger(__name__)

HOST = "mail-sink.songda.dev"
_HEADERS_END = re.compile(rb"\r?\n\r?\n")


def _fields(**values: str) -> Message:
    block = Message()
    for name, value in values.items():
        block[name.replace("_", "-")] = value
    return block


def dsn_for(original: bytes, *, recipient: str, at: datetime) -> bytes:
    """Returns the multipart/report a server writes when `recipient`'s mailbox does not exist: 5.1.1, with the original's headers."""
    report = Message()
    report["From"] = f"MAILER-DAEMON@{HOST} (Mail Delivery System)"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain=HOST)
    report["Auto-Submitted"] = "auto-replied"
    report["MIME-Version"] = "1.0"
    report["Content-Type"] = "multipart/report; report-type=delivery-status"
    notice = Message()
    notice["Content-Type"] = "text/plain; charset=us-ascii"
    notice.set_payload("This is the mail system. Your message could not be delivered to one or more recipients.\n")
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    diagnostic = f"smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"
    status.set_payload(
        [
            _fields(Reporting_MTA=f"dns; {HOST}", Arrival_Date=format_datetime(at)),
            _fields(Final_Recipient=f"rfc822; {recipient}", Action="failed", Status="5.1.1", Diagnostic_Code=diagnostic),
        ]
    )
    headers = Message()
    headers["Content-Type"] = "text/rfc822-headers"
    headers.set_payload(_HEADERS_END.split(original, maxsplit=1)[0].decode("ascii", errors="replace") + "\n")
    for part in (notice, status, headers):
        report.attach(part)
    return report.as_bytes(policy=SMTP)


class Bouncer:
    """Posts the DSN for each bounced recipient to delivery, signed with the shared secret, in the background."""

    def __init__(self, *, url: str | None, secret: str, domain: str) -> None:
        self.url = url
        self.secret = secret
        self.domain = domain.lower()
        # Held until done: a task nobody references may be collected before it runs.
        self._tasks: set[asyncio.Task[None]] = set()

    def bounces(self, recipient: str) -> bool:
        """Tells whether mail to `recipient` bounces here."""
        return recipient.rpartition("@")[2].lower() == self.domain

    def bounce(self, original: bytes, *, recipient: str, at: datetime) -> None:
        """Starts posting the DSN once the message was accepted, as a server reports a failed delivery after taking it."""
        if self.url is None:
            log.warning("mail_sink.bounce_unsent", reason="no dsn_url")
            return
        task = asyncio.get_running_loop().create_task(self._post(dsn_for(original, recipient=recipient, at=at)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, body: bytes) -> None:
        assert self.url is not None
        try:
            status = await post_signed(self.url, body, secret=self.secret)
            log.info("mail_sink.bounced", status=status)
        except httpx.HTTPError as exc:
            log.warning("mail_sink.bounce_failed", error=type(exc).__name__)


async def post_signed(url: str, body: bytes, *, secret: str) -> int:
    """Posts a message (a bounce or a reply) to delivery's webhook as a mail server's pipe would, signed with the shared secret; returns the status."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, content=body, headers={"Content-Type": "message/rfc822", mail_wire.SIGNATURE_HEADER: mail_wire.sign(secret, body)})
    return response.status_code
