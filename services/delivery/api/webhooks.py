"""`POST /webhooks/twilio/status`: Twilio's message and call status callbacks; `POST /webhooks/mail/dsn`: the mail server's bounces. Each verified, deduplicated, forward only."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.delivery.adapters import dsn
from services.delivery.adapters.twilio import verify_signature
from services.delivery.deps import DepsDep
from services.delivery.handlers import sending
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.ratelimit import limited, missed

log = structlog.get_logger(__name__)

# Providers call often; a sender of forged signatures is refused for a while once it spent its misses.
router = APIRouter(tags=["webhooks"], dependencies=[Depends(limited("webhooks", misses="webhook_forgeries"))], responses=problems(429))


@router.post("/webhooks/twilio/status", summary="Twilio status callback (signed)", responses=problems(403))
async def twilio_status(request: Request, deps: DepsDep, attempt: Annotated[str, Query(min_length=1, max_length=100)]) -> JSONResponse:
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
    try:
        applied = await sending.apply_callback(deps, attempt_id=attempt, params=params, sid=sid, status=status)
    except sending.NoSuchCall:
        raise Problem(404, "Not found", f"No message or call attempt {attempt}.") from None
    if applied is None:
        log.info("twilio.duplicate_callback", attempt_id=attempt, status=status)
        return JSONResponse({"applied": False, "reason": "duplicate"})
    log.info("twilio.callback", attempt_id=attempt, status=status, applied=applied)
    return JSONResponse({"applied": applied})


@router.post(
    "/webhooks/mail/dsn",
    summary="A bounced e-mail's delivery status notification (RFC 3464, HMAC-signed)",
    openapi_extra={"requestBody": {"required": True, "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
    responses=problems(403, 404, 422),
)
async def mail_dsn(request: Request, deps: DepsDep) -> JSONResponse:
    """Fails the bounced e-mail's attempt with the receiving server's reason; forged bounces are refused, repeats and late ones change nothing."""
    body = await request.body()
    if not dsn.verify(deps.mail_dsn_secret, body, request.headers.get(dsn.SIGNATURE_HEADER)):
        log.warning("dsn.forged", client=request.client.host if request.client else None, bytes=len(body))
        missed(request, "webhook_forgeries")
        raise Problem(403, "Forbidden", f"The {dsn.SIGNATURE_HEADER} does not match this body.")
    try:
        bounce = dsn.parse(body)
    except dsn.NotADsn as exc:
        raise Problem(422, "Invalid bounce", f"body: {exc}.") from None
    try:
        applied = await sending.apply_bounce(deps, bounce=bounce)
    except sending.NoSuchCall:
        raise Problem(404, "Not found", f"No e-mail attempt {bounce.attempt_id}.") from None
    if applied is None:
        log.info("dsn.duplicate", attempt_id=bounce.attempt_id, status=bounce.status)
        return JSONResponse({"applied": False, "reason": "duplicate"})
    log.info("dsn.applied", attempt_id=bounce.attempt_id, action=bounce.action, status=bounce.status, applied=applied)
    return JSONResponse({"applied": applied})
