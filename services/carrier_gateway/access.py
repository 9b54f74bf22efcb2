"""Who reaches the carrier gateway's objects: a court the court-mail items of its own notices, overseers every item."""

from __future__ import annotations

from services.carrier_gateway.models import CarrierItem
from shared.plumbing.auth import Principal
from shared.plumbing.problems import Problem


def missing_waybill(waybill_no: str) -> Problem:
    """The answer for a waybill that does not exist, and for another court's: the same, so nothing leaks."""
    return Problem(404, "Not found", f"No waybill {waybill_no}.")


def reaches(principal: Principal, item: CarrierItem | None) -> bool:
    """Tells whether the caller reaches a court-mail item: the court whose notice it carries, or an overseer."""
    return item is not None and principal.reaches_court(item.command["court_id"])
