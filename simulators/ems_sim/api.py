"""EMS's open-platform gateway: one form POST for every API, its payload SM4-encrypted, every answer in the envelope."""

from __future__ import annotations

import asyncio
import base64
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import FormData

from shared.contracts.ems_wire import (
    API_CANCEL_WAYBILL,
    API_CREATE_WAYBILL,
    API_RECEIPT_SCAN,
    API_TRACK,
    PAYLOAD_FIELD,
    RET_OK,
    RET_UNAUTHORISED,
    RET_UNDECRYPTABLE,
    RET_UNKNOWN_API,
    WireError,
    decrypt,
    parse_time,
)
from simulators.ems_sim import orders, receipts
from simulators.ems_sim.mix import Weather
from simulators.ems_sim.replies import Outage, Refusal, envelope
from simulators.ems_sim.simulator import Simulator, SimulatorDep

log = structlog.get_logger(__name__)

router = APIRouter(tags=["ems"])


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def _answer_after(sim: Simulator, *, clean: bool) -> None:
    """Lets chance make this call fail with an outage or answer slowly, as the real platform sometimes does."""
    match sim.weather(clean=clean):
        case Weather.OUTAGE:
            raise Outage
        case Weather.SLOW:
            await asyncio.sleep(sim.settings.slow_answer_seconds)


async def _create(sim: Simulator, payload: dict[str, Any]) -> dict[str, Any]:
    booking = orders.read(orders.Booking, payload)
    script = sim.script_for(booking)
    await _answer_after(sim, clean=script is not None and script.clean)
    # EMS deduplicates on the order number: booking it again answers with the first waybill.
    waybill = sim.booked(booking.logistics_order_no) or sim.book(booking, script)
    return {"waybillNo": waybill.number, "logisticsOrderNo": waybill.order_no}


async def _cancel(sim: Simulator, payload: dict[str, Any]) -> dict[str, Any]:
    cancellation = orders.read(orders.Cancellation, payload)
    known = sim.waybills.get(cancellation.waybill_no)
    await _answer_after(sim, clean=known is not None and known.clean)
    waybill = sim.cancel(cancellation.waybill_no)
    return {"waybillNo": waybill.number, "cancelled": True}


async def _track(sim: Simulator, payload: dict[str, Any]) -> dict[str, Any]:
    query = orders.read(orders.Query, payload)
    known = sim.waybills.get(query.waybill_no)
    await _answer_after(sim, clean=known is not None and known.clean)
    waybill = sim.find(query.waybill_no)
    traces = sorted(waybill.traces, key=lambda trace: parse_time(trace.op_time))
    return {"waybillNo": waybill.number, "traces": [trace.wire() for trace in traces]}


async def _receipt_scan(sim: Simulator, payload: dict[str, Any]) -> dict[str, Any]:
    query = orders.read(orders.Query, payload)
    known = sim.waybills.get(query.waybill_no)
    await _answer_after(sim, clean=known is not None and known.clean)
    image = sim.receipt_scan(query.waybill_no)
    return {"waybillNo": query.waybill_no, "imageType": receipts.CONTENT_TYPE, "image": base64.b64encode(image).decode()}


APIS: dict[str, Callable[[Simulator, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    API_CREATE_WAYBILL: _create,
    API_CANCEL_WAYBILL: _cancel,
    API_TRACK: _track,
    API_RECEIPT_SCAN: _receipt_scan,
}


def _checked(form: FormData, sim: Simulator) -> tuple[str, dict[str, Any]]:
    """Returns the API code and decrypted payload of a form, or raises the refusal EMS gives it."""
    settings = sim.settings
    if not (_same(_field(form, "senderNo"), settings.sender_no) and _same(_field(form, "authorization"), settings.authorization)):
        raise Refusal(RET_UNAUTHORISED)
    try:
        payload = decrypt(_field(form, PAYLOAD_FIELD), sim.key)
    except WireError:
        raise Refusal(RET_UNDECRYPTABLE) from None
    api_code = _field(form, "apiCode")
    if api_code not in APIS:
        raise Refusal(RET_UNKNOWN_API)
    if _field(form, "msgType") != "JSON":
        raise Refusal.invalid("msgType")
    try:
        parse_time(_field(form, "timeStamp"))
    except WireError:
        raise Refusal.invalid("timeStamp") from None
    return api_code, payload


@router.post("/api/gateway", summary="Call an EMS open-platform API")
async def gateway(request: Request, sim: SimulatorDep) -> Response:
    """Answers 020003, 020006, 040001 and 040005 in EMS's envelope; an outage is a bare 503."""
    form = await request.form()
    try:
        api_code, payload = _checked(form, sim)
        body = await APIS[api_code](sim, payload)
    except Refusal as refusal:
        log.info("api.refused", api_code=_field(form, "apiCode"), ret_code=refusal.code)
        return JSONResponse(envelope(refusal.code, now=sim.clock.now(), message=refusal.message))
    except Outage:
        log.info("api.outage", api_code=_field(form, "apiCode"))
        return PlainTextResponse("503 Service Temporarily Unavailable", status_code=503)
    return JSONResponse(envelope(RET_OK, now=sim.clock.now(), body=body))
