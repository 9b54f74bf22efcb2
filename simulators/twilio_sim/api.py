"""Twilio's 2010-04-01 REST paths for Messages and Calls, behind HTTP Basic AccountSid:AuthToken."""

from __future__ import annotations

import base64
import binascii
import hmac

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from shared.contracts.values import Phone, mask_phone
from simulators.twilio_sim import lifecycle, listing
from simulators.twilio_sim.errors import TwilioError
from simulators.twilio_sim.outcomes import Completed, Rejected
from simulators.twilio_sim.resources import Call, Message, new_sid, stamp
from simulators.twilio_sim.simulator import SimulatorDep

log = structlog.get_logger(__name__)

MAX_BODY_CHARS = 1600


def _credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def _authenticated(account_sid: str, request: Request, sim: SimulatorDep) -> None:
    """Lets a request through only with the account's own credentials and its SID in the path."""
    user, password = _credentials(request.headers.get("Authorization", ""))
    settings = sim.settings
    checks = (_same(user, settings.account_sid), _same(password, settings.auth_token), _same(account_sid, settings.account_sid))
    if not all(checks):
        raise TwilioError.authenticate()


router = APIRouter(prefix="/2010-04-01/Accounts/{account_sid}", tags=["twilio"], dependencies=[Depends(_authenticated)])


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _to_number(raw: str) -> Phone:
    try:
        # Twilio takes only E.164, so no region is assumed for a national number.
        return Phone.parse(raw, region="ZZ")
    except ValueError:
        raise TwilioError.refusal(21211, to=raw) from None


@router.post("/Messages.json", status_code=201, summary="Send an SMS")
async def create_message(request: Request, sim: SimulatorDep) -> JSONResponse:
    """Queues an SMS and plays out its delivery, or refuses it as Twilio would."""
    form = await request.form()
    to, from_, service, body = (_field(form, name) for name in ("To", "From", "MessagingServiceSid", "Body"))
    if not to:
        raise TwilioError(21604, "A 'To' phone number is required.")
    if not from_ and not service:
        raise TwilioError(21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
    if not body:
        raise TwilioError(21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise TwilioError(21617, f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit.")
    number = _to_number(to)
    outcome = sim.sms_outcome(number)
    if isinstance(outcome, Rejected):
        log.info("message.refused", to=mask_phone(number.e164), code=outcome.error_code)
        raise TwilioError.refusal(outcome.error_code, to=to)
    now = stamp(sim.clock)
    message = Message(
        sid=new_sid("SM"),
        account_sid=sim.settings.account_sid,
        to=number.e164,
        from_=from_ or None,
        body=body,
        messaging_service_sid=service or None,
        status_callback=_field(form, "StatusCallback") or None,
        # A Messaging Service first accepts a message, then queues it once it has picked a sender.
        status="queued" if from_ else "accepted",
        date_created=now,
        date_updated=now,
    )
    sim.messages[message.sid] = message
    steps = lifecycle.message_steps(outcome, sim.mix)
    sim.spawn(f"twilio_sim.message.{message.sid}", lifecycle.play_message(message, steps, clock=sim.clock, callbacks=sim.callbacks))
    log.info("message.created", sid=message.sid, to=mask_phone(message.to), outcome=outcome.outcome)
    return JSONResponse(message.json(), status_code=201)


@router.get("/Messages.json", summary="List SMS, newest first")
async def list_messages(request: Request, sim: SimulatorDep) -> JSONResponse:
    """Reads a page of messages matching To, From and DateSent filters."""
    query = request.query_params
    filters = {name: query[name] for name in listing.FILTERS if query.get(name)}
    selects = listing.message_filter(filters)
    page, size = listing.page_params(query)
    records = [message.json() for message in reversed(sim.messages.values()) if selects(message)]
    return JSONResponse(listing.page_envelope(records, key="messages", path=request.url.path, filters=filters, page=page, size=size))


@router.get("/Messages/{sid}.json", summary="Fetch an SMS")
async def fetch_message(sid: str, request: Request, sim: SimulatorDep) -> JSONResponse:
    """Returns a message as it stands now."""
    message = sim.messages.get(sid)
    if message is None:
        raise TwilioError.not_found(request.url.path)
    return JSONResponse(message.json())


@router.post("/Calls.json", status_code=201, summary="Place a call")
async def create_call(request: Request, sim: SimulatorDep) -> JSONResponse:
    """Queues a call and plays out its progress."""
    form = await request.form()
    to, from_ = _field(form, "To"), _field(form, "From")
    if not to:
        raise TwilioError(21201, "No 'To' number is specified")
    if not from_:
        raise TwilioError(21213, "No 'From' number is specified")
    if not _field(form, "Url") and not _field(form, "Twiml"):
        raise TwilioError(21205, "Url parameter is required.")
    number = _to_number(to)
    outcome = sim.call_outcome(number)
    now = stamp(sim.clock)
    call = Call(
        sid=new_sid("CA"),
        account_sid=sim.settings.account_sid,
        to=number.e164,
        from_=from_,
        status_callback=_field(form, "StatusCallback") or None,
        # The SDK repeats the parameter; TwiML-style callers put the names in one, space-separated.
        events=frozenset(name for value in form.getlist("StatusCallbackEvent") if isinstance(value, str) for name in value.split()),
        record=_field(form, "Record").lower() == "true",
        recording_status_callback=_field(form, "RecordingStatusCallback") or None,
        status="queued",
        date_created=now,
        date_updated=now,
    )
    sim.calls[call.sid] = call
    steps = lifecycle.call_steps(outcome, sim.mix)
    recording_after = sim.mix.seconds(1, 5) if call.record and isinstance(outcome, Completed) else None
    sim.spawn(
        f"twilio_sim.call.{call.sid}",
        lifecycle.play_call(call, steps, recording_after=recording_after, clock=sim.clock, callbacks=sim.callbacks),
    )
    log.info("call.created", sid=call.sid, to=mask_phone(call.to), outcome=outcome.outcome)
    return JSONResponse(call.json(), status_code=201)


@router.get("/Calls/{sid}.json", summary="Fetch a call")
async def fetch_call(sid: str, request: Request, sim: SimulatorDep) -> JSONResponse:
    """Returns a call as it stands now."""
    call = sim.calls.get(sid)
    if call is None:
        raise TwilioError.not_found(request.url.path)
    return JSONResponse(call.json())
