"""Providers' webhooks, each verified, deduplicated, forward only: Twilio's status callbacks and incoming SMS; the mail server's bounces and replies."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from services.delivery.adapters import dsn, mail_reply
from services.delivery.adapters.twilio import verify_signature
from services.delivery.deps import DeliveryDeps, DepsDep
from services.delivery.handlers import replies, sending
from shared.contracts import mail_wire
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


# What Twilio expects back from an incoming-message webhook: TwiML that sends nothing in return.
_NO_ANSWER = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post(
    "/webhooks/twilio/inbound",
    summary="An SMS a recipient sent back (Twilio's incoming message webhook, signed)",
    response_class=Response,
    responses={200: {"description": "Empty TwiML: nothing is sent back", "content": {"application/xml": {"schema": {"type": "string"}}}}, **problems(403, 422)},
)
async def twilio_inbound(request: Request, deps: DepsDep) -> Response:
    """Applies a reply to the latest open SMS attempt to its sender's number (OLR Art. 31(2)); forged ones are refused, repeats and strays change nothing."""
    params = {k: str(v) for k, v in (await request.form()).items()}
    url = f"{deps.setup.public_url}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
    if not verify_signature(auth_token=deps.twilio_auth_token, url=url, params=params, signature=request.headers.get("X-Twilio-Signature")):
        log.warning("twilio.forged_inbound", path=request.url.path, client=request.client.host if request.client else None)
        missed(request, "webhook_forgeries")
        raise Problem(403, "Forbidden", "The X-Twilio-Signature does not match this request.")
    sid, sender = params.get("MessageSid"), params.get("From")
    if not sid or not sender:
        raise Problem(422, "Invalid message", "An incoming message names its MessageSid and From.")
    applied = await replies.sms_reply(deps, key=sid, sender=sender, text=params.get("Body", ""))
    # The sender's number is personal data: the log names only the message.
    log.info("twilio.inbound", message_sid=sid, applied=applied, matched=applied is not False)
    return Response(_NO_ANSWER, media_type="application/xml")


async def _signed_mail(request: Request, deps: DeliveryDeps, *, what: str) -> bytes:
    """Returns the raw message the mail server's pipe posted, refusing one whose HMAC signature does not match (a forgery)."""
    body = await request.body()
    if not mail_wire.verify(deps.mail_dsn_secret, body, request.headers.get(mail_wire.SIGNATURE_HEADER)):
        log.warning(f"{what}.forged", client=request.client.host if request.client else None, bytes=len(body))
        missed(request, "webhook_forgeries")
        raise Problem(403, "Forbidden", f"The {mail_wire.SIGNATURE_HEADER} does not match this body.")
    return body


@router.post(
    "/webhooks/mail/dsn",
    summary="A bounced e-mail's delivery status notification (RFC 3464, HMAC-signed)",
    openapi_extra={"requestBody": {"required": True, "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
    responses=problems(403, 404, 422),
)
async def mail_dsn(request: Request, deps: DepsDep) -> JSONResponse:
    """Fails the bounced e-mail's attempt with the receiving server's reason; forged bounces are refused, repeats and late ones change nothing."""
    body = await _signed_mail(request, deps, what="dsn")
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


@router.post(
    "/webhooks/mail/inbound",
    summary="An e-mail answering one of delivery's e-mails (In-Reply-To <attempt id@songda>, HMAC-signed)",
    openapi_extra={"requestBody": {"required": True, "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
    responses=problems(403, 422),
)
async def mail_inbound(request: Request, deps: DepsDep) -> JSONResponse:
    """Applies the recipient's reply to the e-mail's open attempt (OLR Art. 31(2)); forged ones are refused, automatic answers, repeats and strays change nothing."""
    body = await _signed_mail(request, deps, what="mail_reply")
    try:
        reply = mail_reply.parse(body)
    except mail_reply.NotAReply as exc:
        raise Problem(422, "Invalid reply", f"body: {exc}.") from None
    if reply.automatic:
        log.info("mail_reply.automatic", attempt_id=reply.attempt_id)
        return JSONResponse({"applied": False, "reason": "automatic"})
    applied = await replies.mail_reply(deps, key=reply.key, attempt_id=reply.attempt_id, sender=reply.sender, text=reply.text)
    if applied is None:
        log.info("mail_reply.duplicate", attempt_id=reply.attempt_id)
        return JSONResponse({"applied": False, "reason": "duplicate"})
    log.info("mail_reply.received", attempt_id=reply.attempt_id, applied=applied)
    return JSONResponse({"applied": applied})
