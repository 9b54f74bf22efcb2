"""`POST /webhooks/ems`: EMS's trace pushes, digest-verified, each node applied once and never backwards."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from services.carrier_gateway.tracking import apply_traces
from shared.contracts.ems_wire import DIGEST_HEADER, Traces, WireError, verify_digest
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.ratelimit import limited, missed
from shared.plumbing.runtime import RuntimeDep

log = structlog.get_logger(__name__)

# Providers call often; a sender of forged signatures is refused for a while once it spent its misses.
router = APIRouter(tags=["webhooks"], dependencies=[Depends(limited("webhooks", misses="webhook_forgeries"))], responses=problems(429))


def push_secret(request: Request) -> str:
    """Returns the secret EMS signs its pushes with."""
    return request.app.state.ems_push_secret


PushSecret = Annotated[str, Depends(push_secret)]


@router.post("/webhooks/ems", summary="EMS trace push (digest-signed)", responses=problems(403, 422))
async def ems_push(request: Request, runtime: RuntimeDep, secret: PushSecret) -> dict[str, object]:
    """Applies the pushed nodes; a forged push is refused and logged, repeats and late nodes move nothing."""
    body = await request.body()
    if not verify_digest(body, secret, request.headers.get(DIGEST_HEADER)):
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
        async with runtime.db.transaction() as session:
            applied = await apply_traces(session, traces, source="push", now=runtime.clock.now())
    except WireError as exc:
        # Raised before the commit: a push with one unreadable time writes nothing.
        raise Problem(422, "Invalid push", f"opTime: {exc}") from None
    if applied.unknown:
        log.warning("ems.unknown_waybill", nodes=applied.unknown)
    return {"success": True, "new": applied.new, "repeated": applied.repeated, "unknown": applied.unknown}
