"""`POST /webhooks/twilio/status`: Twilio's message and call status callbacks, verified, deduplicated, forward only."""

from __future__ import annotations

from datetime import datetime

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.delivery.adapters.twilio import verify_signature
from services.delivery.deps import Deps
from services.delivery.domain.machine import Arrived, Input, NotArrived
from services.delivery.models import DeliveryAttempt, DeliveryCallback
from services.delivery.workflow import advance
from shared.db import insert_ignoring_duplicates
from shared.events import Channel, Transmission
from shared.problems import Problem
from shared.runtime import RuntimeDep

log = structlog.get_logger(__name__)

router = APIRouter(tags=["webhooks"])

ARRIVED = frozenset({"delivered", "completed"})
FAILED = frozenset({"undelivered", "failed", "no-answer", "busy", "canceled"})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def to_input(attempt: DeliveryAttempt, params: dict[str, str], *, at: datetime) -> Input | None:
    """Turns a final status into an input of the machine; intermediate ones (queued, sent, ringing) into none."""
    status = params.get("MessageStatus") or params.get("CallStatus") or ""
    record = Transmission(
        provider="twilio",
        provider_ref=params.get("MessageSid") or params.get("CallSid"),
        sender=params.get("From"),
        receiver=params.get("To") or attempt.target or "",
        status=status,
        sent_at=attempt.started_at,
        arrived_at=at if status in ARRIVED else None,
        error_code=_int(params.get("ErrorCode")),
        duration_s=_int(params.get("CallDuration")),
        recording_ref=params.get("RecordingSid"),
        documents=list((attempt.message or {}).get("documents", [])),
    )
    if status in ARRIVED:
        return Arrived(attempt_id=attempt.id, at=at, record=record)
    if status in FAILED:
        return NotArrived(attempt_id=attempt.id, at=at, status=status, error_code=record.error_code, record=record)
    return None


@router.post("/webhooks/twilio/status", summary="Twilio status callback (signed)")
async def twilio_status(request: Request, runtime: RuntimeDep, deps: Deps, attempt: str) -> JSONResponse:
    """Applies a message or call status once; forged callbacks are refused, repeats and stale ones change nothing."""
    params = {k: str(v) for k, v in (await request.form()).items()}
    # Twilio signs the URL it was given, which is our public URL, not whatever a proxy hands us.
    url = f"{deps.setup.public_url}{request.url.path}?{request.url.query}"
    if not verify_signature(auth_token=deps.twilio_auth_token, url=url, params=params, signature=request.headers.get("X-Twilio-Signature")):
        log.warning("twilio.forged_callback", path=request.url.path, client=request.client.host if request.client else None)
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
        claim = insert_ignoring_duplicates(session.bind.dialect, DeliveryCallback.__table__).values(key=f"{sid}:{status}", attempt_id=attempt, received_at=now)  # type: ignore[union-attr]
        if (await session.exec(claim)).rowcount != 1:
            log.info("twilio.duplicate_callback", attempt_id=attempt, status=status)
            return JSONResponse({"applied": False, "reason": "duplicate"})
        event = to_input(row, params, at=now)
        decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None) if event else None
    applied = bool(decision and decision.changed)
    log.info("twilio.callback", attempt_id=attempt, status=status, applied=applied)
    return JSONResponse({"applied": applied})
