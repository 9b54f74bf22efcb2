"""The /sim endpoints tests and demos use: script what happens per receiver, and see every waybill and push."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from shared.plumbing.problems import Problem
from simulators.ems_sim.scripts import Script
from simulators.ems_sim.simulator import SimulatorDep

router = APIRouter(prefix="/sim", tags=["simulator"])


@router.post("/script", summary="Script what happens to later items for a receiver phone or address")
async def put_script(script: Script, sim: SimulatorDep) -> Script:
    """Stores the script over the receiver's earlier one and returns it."""
    return sim.scripts.put(script)


@router.get("/script", summary="List the scripts in force")
async def list_scripts(sim: SimulatorDep) -> dict[str, list[Script]]:
    """Returns every script in force."""
    return {"scripts": sim.scripts.all()}


@router.delete("/script", status_code=204, summary="Forget every script")
async def clear_scripts(sim: SimulatorDep) -> Response:
    """Returns every receiver to the random mix."""
    sim.scripts.clear()
    return Response(status_code=204)


@router.get("/waybills", summary="Every waybill booked, oldest first")
async def list_waybills(sim: SimulatorDep) -> dict[str, list[dict[str, Any]]]:
    """Returns each waybill's order, status and last code, the receiver masked."""
    return {"waybills": [waybill.summary() for waybill in sim.waybills.values()]}


@router.get("/waybills/{number}", summary="One waybill with its traces and push log")
async def get_waybill(number: str, sim: SimulatorDep) -> dict[str, Any]:
    """Returns every trace so far, dropped ones included, and what became of each push."""
    waybill = sim.waybills.get(number)
    if waybill is None:
        raise Problem(404, "Not found", f"no waybill {number}")
    return waybill.detail()
