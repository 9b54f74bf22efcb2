"""The JSON side of the sink, for tests and scripts: list the messages received, forget them, or have the addressee reply to one."""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.plumbing.problems import Problem
from simulators.mail_sink import reply as replies
from simulators.mail_sink.bounce import post_signed
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.mailbox import MailboxDep

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api", tags=["messages"])


@router.get("/messages", summary="Every message kept, newest first")
async def list_messages(mailbox: MailboxDep) -> dict[str, list[dict[str, Any]]]:
    """Returns the messages kept, newest first, with their headers and bodies."""
    return {"messages": [mail.json() for mail in mailbox.newest_first()]}


@router.delete("/messages", status_code=204, summary="Forget every message")
async def clear_messages(mailbox: MailboxDep) -> Response:
    """Empties the mailbox."""
    log.info("mail_sink.cleared", messages=mailbox.clear())
    return Response(status_code=204)


class Reply(BaseModel):
    """What the addressee writes back; `automatic` makes it a machine's answer (an out-of-office notice)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)
    automatic: bool = False


@router.post("/messages/{mail_id}/reply", summary="The addressee replies to a kept message; the reply is posted signed to reply_url")
async def reply_to(mail_id: str, reply: Reply, mailbox: MailboxDep, request: Request) -> dict[str, int]:
    """Posts the reply as the mail server's pipe would and returns the webhook's status."""
    mail = mailbox.get(mail_id)
    if mail is None:
        raise Problem(404, "Not found", f"No message {mail_id} in the sink.")
    settings: MailSinkSettings = request.app.state.settings
    if settings.reply_url is None:
        raise Problem(409, "Not configured", "The sink has no reply_url (MAIL_SINK_REPLY_URL) to post replies to.")
    body = replies.reply_for(mail, text=reply.text, at=request.app.state.clock.now(), automatic=reply.automatic)
    try:
        status = await post_signed(settings.reply_url, body, secret=settings.dsn_secret)
    except httpx.HTTPError as exc:
        raise Problem(502, "Webhook unreachable", f"reply_url: {type(exc).__name__}.") from None
    return {"webhook_status": status}
