"""The carrier gateway's HTTP API: a court-mail item's booking and every node of its trace for operators, and EMS's digest-signed trace pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ValidationError

from services.carrier_gateway import handlers
from services.carrier_gateway.adapters.ems.mapper import node
from services.carrier_gateway.deps import DepsDep
from services.carrier_gateway.models import CarrierTrace
from shared.contracts.ems_wire import DIGEST_HEADER, Trace, Traces, WireError, verify_digest
from shared.contracts.events import PostalStatus, ReturnReason, SignerRole
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.ratelimit import limited, missed

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1", tags=["waybills"])
# Providers call often; a sender of forged signatures is refused for a while once it spent its misses.
webhooks = APIRouter(tags=["webhooks"], dependencies=[Depends(limited("webhooks", misses="webhook_forgeries"))], responses=problems(429))

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


@router.get("/waybills/{waybill_no}", summary="A court-mail item and its full trace")
async def get_waybill(waybill_no: Annotated[str, Path(max_length=64)], deps: DepsDep, principal: Operators) -> WaybillView:
    """Returns the item and every node received for it, in the order things happened, with EMS's raw code and text; another court's waybill answers as a missing one."""
    item, rows = await handlers.read_waybill(deps, principal=principal, waybill_no=waybill_no)
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
        trace=[_node_view(row) for row in rows],
    )


def _node_view(row: CarrierTrace) -> NodeView:
    raw = Trace.model_validate(row.raw)
    read = node(raw)
    return NodeView(
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


@webhooks.post("/webhooks/ems", summary="EMS trace push (digest-signed)", responses=problems(403, 422))
async def ems_push(request: Request, deps: DepsDep) -> dict[str, object]:
    """Applies the pushed nodes; a forged push is refused and logged, repeats and late nodes move nothing."""
    body = await request.body()
    if not verify_digest(body, deps.push_secret, request.headers.get(DIGEST_HEADER)):
        log.warning("ems.forged_push", client=request.client.host if request.client else None, bytes=len(body))
        missed(request, "webhook_forgeries")
        raise Problem(403, "Forbidden", f"The {DIGEST_HEADER} does not match this body.")
    try:
        traces = Traces.model_validate_json(body).traces
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise Problem(422, "Invalid push", f"{field}: {first['msg']}") from None
    try:
        applied = await handlers.record_push(deps, traces=traces)
    except WireError as exc:
        raise Problem(422, "Invalid push", f"opTime: {exc}") from None
    if applied.unknown:
        log.warning("ems.unknown_waybill", nodes=applied.unknown)
    return {"success": True, "new": applied.new, "repeated": applied.repeated, "unknown": applied.unknown}
