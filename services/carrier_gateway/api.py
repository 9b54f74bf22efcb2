"""The carrier gateway's HTTP API: a court-mail item's booking and every node of its trace, for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlmodel import col, select

from services.carrier_gateway.adapters.ems.mapper import node
from services.carrier_gateway.models import CarrierItem, CarrierTrace
from shared.contracts.ems_wire import Trace
from shared.contracts.events import PostalStatus, ReturnReason, SignerRole
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["waybills"])

Operators = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]


class NodeView(BaseModel):
    op_time: datetime
    op_code: str
    op_name: str | None
    op_desc: str | None
    op_org_name: str | None
    status: PostalStatus
    signer_role: SignerRole | None
    return_reason: ReturnReason | None
    source: str
    received_at: datetime


class WaybillView(BaseModel):
    waybill_no: str
    notice_id: str
    attempt_id: str
    booking: str
    status: PostalStatus | None
    closed: bool
    booked_at: datetime
    last_node_at: datetime | None
    polled_at: datetime | None
    receipt_at: datetime | None
    # The return receipt's scan: pending (being taken into evidence), stored, or missing (the receipt went out without it).
    scan: str | None
    scan_evidence_id: str | None
    trace: list[NodeView]


def reaches(principal: Principal, item: CarrierItem | None) -> bool:
    """Tells whether the caller reaches a court-mail item: the court whose notice it carries, or an overseer."""
    return item is not None and principal.reaches_court(item.command["court_id"])


@router.get("/waybills/{waybill_no}", summary="A court-mail item and its full trace")
async def get_waybill(waybill_no: Annotated[str, Path(max_length=64)], runtime: RuntimeDep, principal: Operators) -> WaybillView:
    """Returns the item and every node received for it, in the order things happened, with EMS's raw code and text; another court's waybill answers as a missing one."""
    async with runtime.db.transaction() as session:
        item = (await session.exec(select(CarrierItem).where(CarrierItem.waybill_no == waybill_no))).first()
        if not reaches(principal, item):
            raise Problem(404, "Not found", f"No waybill {waybill_no}.")
        assert item is not None
        if principal.audited:
            audit.record(session, principal, action="waybill.read", target=waybill_no, now=runtime.clock.now())
        rows = (await session.exec(select(CarrierTrace).where(CarrierTrace.waybill_no == waybill_no).order_by(col(CarrierTrace.op_time)))).all()
    trace = []
    for row in rows:
        raw = Trace.model_validate(row.raw)
        read = node(raw)
        trace.append(
            NodeView(
                op_time=read.op_time,
                op_code=read.op_code,
                op_name=read.op_name,
                op_desc=read.op_desc,
                op_org_name=raw.op_org_name,
                status=read.status,
                signer_role=read.signer_role,
                return_reason=read.return_reason,
                source=row.source,
                received_at=row.received_at,
            )
        )
    return WaybillView(
        waybill_no=waybill_no,
        notice_id=item.notice_id,
        attempt_id=item.attempt_id,
        booking=item.booking,
        status=PostalStatus(item.status) if item.status else None,
        closed=item.closed,
        booked_at=item.created_at,
        last_node_at=item.last_node_at,
        polled_at=item.polled_at,
        receipt_at=item.receipt_at,
        scan=item.scan,
        scan_evidence_id=item.scan_evidence_id,
        trace=trace,
    )
