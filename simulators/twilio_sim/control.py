"""The /sim endpoints tests and demos use: script outcomes per number, and see what the simulator received."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from shared.contracts.values import Phone
from shared.plumbing.problems import Problem
from simulators.twilio_sim.outcomes import Script
from simulators.twilio_sim.simulator import SimulatorDep

router = APIRouter(prefix="/sim", tags=["simulator"])


def _number(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return Phone.parse(raw.strip()).e164
    except ValueError as exc:
        raise Problem(422, "Invalid request", f"to: {exc}", kind="validation", errors=[{"field": "to", "message": str(exc), "code": "value_error"}]) from None


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
