"""E-mail through SMTP with aiosmtplib, with a port and a fake for tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal, Protocol

import aiosmtplib
import structlog

from shared.plumbing.masking import mask_text

log = structlog.get_logger(__name__)


class MailUnavailable(RuntimeError):
    """The mail server was unreachable or said "try later": whether the message went out is unknown."""


@dataclass(frozen=True)
class MailResult:
    """The receiving server's answer to one message, kept as JSON in the side-effect ledger."""

    accepted: bool
    message_id: str
    accepted_at: str | None = None
    error: str | None = None
    permanent: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Returns the result as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MailResult:
        """Reads a result back from its JSON form."""
        return cls(
            accepted=bool(data["accepted"]),
            message_id=str(data["message_id"]),
            accepted_at=data.get("accepted_at"),
            error=data.get("error"),
            permanent=bool(data.get("permanent", False)),
        )


class Mailer(Protocol):
    """Sends e-mail; a permanent refusal is a result, an unknown outcome raises MailUnavailable."""

    async def send(self, *, to: str, subject: str, text: str, html: str | None, message_id: str, now: datetime) -> MailResult: ...

    async def close(self) -> None: ...


class SmtpMailer:
    """Sends each message over its own SMTP connection."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        use_tls: bool = False,
        timeout: float = 15.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._use_tls = use_tls
        self._timeout = timeout

    async def send(self, *, to: str, subject: str, text: str, html: str | None, message_id: str, now: datetime) -> MailResult:
        """Sends one message; `message_id` (angle brackets optional) becomes its Message-ID header."""
        message = _compose(sender=self._sender, to=to, subject=subject, text=text, html=html, message_id=message_id, now=now)
        header_id = str(message["Message-ID"])
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                use_tls=self._use_tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPException as exc:
            refusal = _permanent_refusal(exc)
            if refusal is None:
                raise MailUnavailable(f"mail to {mask_text(to)}: {type(exc).__name__}") from exc
            log.info("mail.refused", to=mask_text(to), error=refusal)
            return MailResult(accepted=False, message_id=header_id, error=refusal, permanent=True)
        except OSError as exc:
            raise MailUnavailable(f"mail to {mask_text(to)}: {type(exc).__name__}") from exc
        log.info("mail.accepted", to=mask_text(to))
        return MailResult(accepted=True, message_id=header_id, accepted_at=now.isoformat())

    async def close(self) -> None:
        """Releases nothing: no connection outlives a message."""


def _compose(*, sender: str, to: str, subject: str, text: str, html: str | None, message_id: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    # The same id on a resend lets the recipient's client and the court's records see one message.
    message["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _permanent_refusal(exc: aiosmtplib.SMTPException) -> str | None:
    # Only a refusal of the recipient or of the message says something about this address; a 5xx to
    # our login, HELO or sender is our configuration, so it waits to be retried instead.
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refusals: list[aiosmtplib.SMTPResponseException] = list(exc.recipients)
    elif isinstance(exc, aiosmtplib.SMTPDataError):
        refusals = [exc]
    else:
        return None
    if all(refusal.code >= 500 for refusal in refusals):
        return "; ".join(f"{refusal.code} {refusal.message}" for refusal in refusals)
    return None


@dataclass(frozen=True)
class SentMail:
    """A message the fake was asked to send, with its answer."""

    to: str
    subject: str
    text: str
    html: str | None
    message_id: str
    result: MailResult


class FakeMailer:
    """A mailer in memory: records every message, answers as scripted per address, can fail once."""

    def __init__(self) -> None:
        self.sent: list[SentMail] = []
        self.closed = False
        self._scripts: dict[str, MailResult] = {}
        self._failure: Literal["delivered", "lost"] | None = None

    def script(self, address: str, result: MailResult) -> None:
        """Answers every later message to `address` with `result`, carrying that message's id."""
        self._scripts[address] = result

    def fail_next(self, *, delivered: bool = True) -> None:
        """Makes the next send raise MailUnavailable, after going out when `delivered`."""
        self._failure = "delivered" if delivered else "lost"

    async def send(self, *, to: str, subject: str, text: str, html: str | None, message_id: str, now: datetime) -> MailResult:
        """Records the message and answers for its address."""
        scripted = self._scripts.get(to)
        result = replace(scripted, message_id=message_id) if scripted else MailResult(accepted=True, message_id=message_id, accepted_at=now.isoformat())
        failure, self._failure = self._failure, None
        if failure != "lost":
            self.sent.append(SentMail(to=to, subject=subject, text=text, html=html, message_id=message_id, result=result))
        if failure is not None:
            raise MailUnavailable(f"scripted failure, message {failure}")
        return result

    async def close(self) -> None:
        """Marks the fake closed."""
        self.closed = True
