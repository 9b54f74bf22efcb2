"""`POST /webhooks/twilio/status`: Twilio's message and call status callbacks, verified, deduplicated, forward only."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.delivery.adapters.twilio import verify_signature
from services.delivery.deps import DepsDep
from services.delivery.models import DeliveryAttempt, DeliveryCallback
from services.delivery.statuses import SETTLED, to_input
from services.delivery.workflow import advance
from shared.contracts.events import Channel
from shared.plumbing.db import insert_ignoring_duplicates, table_of
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.ratelimit import limited, missed
from shared.plumbing.runtime import RuntimeDep

log = structlog.get_logger(__name__)

# Providers call often; a sender of forged signatures is refused for a while once it spent its misses.
router = APIRouter(tags=["webhooks"], dependencies=[Depends(limited("webhooks", misses="webhook_forgeries"))], responses=problems(429))


@router.post("/webhooks/twilio/status", summary="Twilio status callback (signed)", responses=problems(403))
async def twilio_status(request: Request, runtime: RuntimeDep, deps: DepsDep, attempt: Annotated[str, Query(min_length=1, max_length=100)]) -> JSONResponse:
    """Applies a message or call status once; forged callbacks are refused, repeats and stale ones change nothing."""
    params = {k: str(v) for k, v in (await request.form()).items()}
    # Twilio signs the URL it was given, which is our public URL, not whatever a proxy hands us.
    url = f"{deps.setup.public_url}{request.url.path}?{request.url.query}"
    if not verify_signature(auth_token=deps.twilio_auth_token, url=url, params=params, signature=request.headers.get("X-Twilio-Signature")):
        log.warning("twilio.forged_callback", path=request.url.path, client=request.client.host if request.client else None)
        missed(request, "webhook_forgeries")
        raise Problem(403, "Forbidden", "The X-Twilio-Signature does not match this request.")
    sid = params.get("MessageSid") or params.get("CallSid")
    status = params.get("MessageStatus") or params.get("CallStatus")
    if not sid or not status:
        raise Problem(422, "Invalid callback", "A status callback names a MessageSid or CallSid and its status.")
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        row = await session.get(DeliveryAttempt, attempt)
        if row is None or row.channel not in (Channel.sms, Channel.voice):
            raise Problem(404, "Not found", f"No message or call attempt {attempt}.")
        claim = insert_ignoring_duplicates(session, table_of(DeliveryCallback)).values(key=f"{sid}:{status}", attempt_id=attempt, received_at=now)
        if (await session.exec(claim)).rowcount != 1:
            log.info("twilio.duplicate_callback", attempt_id=attempt, status=status)
            return JSONResponse({"applied": False, "reason": "duplicate"})
        event = to_input(row, params, at=now)
        if event is not None:
            row.send_status = SETTLED
            session.add(row)
        decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None) if event else None
    applied = bool(decision and decision.changed)
    log.info("twilio.callback", attempt_id=attempt, status=status, applied=applied)
    return JSONResponse({"applied": applied})
