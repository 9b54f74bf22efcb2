"""The /sim endpoints tests and demos use: script outcomes per number, see what the simulator received, and have a handset reply."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.values import Phone
from shared.plumbing.problems import Problem
from simulators.twilio_sim.outcomes import Script
from simulators.twilio_sim.resources import API_VERSION, new_sid
from simulators.twilio_sim.simulator import SimulatorDep

router = APIRouter(prefix="/sim", tags=["simulator"])


def _number(raw: str | None, *, field: str = "to") -> str | None:
    if raw is None:
        return None
    try:
        return Phone.parse(raw.strip()).e164
    except ValueError as exc:
        raise Problem(422, "Invalid request", f"{field}: {exc}", kind="validation", errors=[{"field": field, "message": str(exc), "code": "value_error"}]) from None


@router.post("/script", summary="Script the outcome of later messages and calls to a number")
async def put_script(script: Script, sim: SimulatorDep) -> Script:
    """Stores the script and returns what is now in force for the number."""
    return sim.scripts.put(script)


@router.get("/script", summary="List the scripts in force")
async def list_scripts(sim: SimulatorDep) -> dict[str, list[Script]]:
    """Returns every script in force."""
    return {"scripts": sim.scripts.all()}


@router.delete("/script", status_code=204, summary="Forget every script")
async def clear_scripts(sim: SimulatorDep) -> Response:
    """Returns every number to the random mix."""
    sim.scripts.clear()
    return Response(status_code=204)


@router.get("/messages", summary="Every SMS received, oldest first")
async def received_messages(sim: SimulatorDep, to: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Returns the messages received, optionally only those to one number, with their current status."""
    number = _number(to)
    return {"messages": [message.json() for message in sim.messages.values() if number in (None, message.to)]}


@router.get("/calls", summary="Every call placed, oldest first")
async def received_calls(sim: SimulatorDep, to: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Returns the calls placed, optionally only those to one number, with their current status."""
    number = _number(to)
    return {"calls": [call.json() for call in sim.calls.values() if number in (None, call.to)]}


class Reply(BaseModel):
    """An SMS a handset sends back to the number that last wrote to it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: str = Field(alias="from", min_length=1, max_length=32)
    body: str = Field(min_length=1, max_length=1600)


@router.post("/inbound", summary="A handset replies: Twilio's signed incoming-message webhook is posted to the number's SMS URL")
async def inbound(reply: Reply, sim: SimulatorDep) -> dict[str, Any]:
    """Posts the reply as Twilio would, to the number that last messaged the sender, and returns the webhook's status."""
    sender = _number(reply.sender, field="from")
    last = next((m for m in reversed(sim.messages.values()) if m.to == sender and m.from_), None)
    if sender is None or last is None or last.from_ is None:
        raise Problem(422, "Invalid request", "from: no message was sent to this number, so it has no number to reply to.")
    if sim.settings.sms_url is None:
        raise Problem(409, "Not configured", "The simulator has no sms_url (TWILIO_SIM_SMS_URL) to post incoming messages to.")
    sid = new_sid("SM")
    params = {
        "AccountSid": sim.settings.account_sid,
        "ApiVersion": API_VERSION,
        "Body": reply.body,
        "From": sender,
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": last.from_,
    }
    try:
        status = await sim.callbacks.post_once(sim.settings.sms_url, params)
    except httpx.HTTPError as exc:
        raise Problem(502, "Webhook unreachable", f"sms_url: {type(exc).__name__}.") from None
    return {"sid": sid, "webhook_status": status}
