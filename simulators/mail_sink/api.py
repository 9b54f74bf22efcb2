"""The JSON side of the sink, for tests and scripts: list the messages received, or forget them."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Response

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
