"""The SMTP side of the sink: an aiosmtpd server that accepts every message into the mailbox, and bounces what goes to the bounce domain."""

from __future__ import annotations

import logging

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.plumbing.clock import Clock
from simulators.mail_sink.bounce import Bouncer
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.mailbox import Mailbox

log = structlog.get_logger(__name__)


class Reception:
    """An aiosmtpd handler that accepts every message and keeps it, stamped with the shared clock; mail to the bounce domain is bounced after."""

    def __init__(self, *, mailbox: Mailbox, clock: Clock, bouncer: Bouncer) -> None:
        self.mailbox = mailbox
        self.clock = clock
        self.bouncer = bouncer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keeps the message and answers with its id, as a server's "queued as"."""
        assert envelope.original_content is not None
        mail = self.mailbox.receive(envelope.original_content, recipients=envelope.rcpt_tos, at=self.clock.now())
        log.info("mail_sink.received", message=mail.id, recipients=len(envelope.rcpt_tos), size=mail.size)
        for recipient in envelope.rcpt_tos:
            if self.bouncer.bounces(recipient):
                self.bouncer.bounce(envelope.original_content, recipient=recipient, at=self.clock.now())
        return f"250 2.0.0 Ok: queued as {mail.id}"


def smtp_server(settings: MailSinkSettings, reception: Reception) -> Controller:
    """Builds the SMTP server on the settings' host and SMTP port; `start()` runs it on a thread of its own."""
    # aiosmtpd logs every command line at INFO, recipients' addresses included; its warnings are enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # A fixed greeting name spares the reverse DNS lookup aiosmtpd makes for the machine's own name.
    return Controller(reception, hostname=settings.host, port=settings.smtp_port, server_hostname="mail-sink.songda.dev", enable_SMTPUTF8=True)
