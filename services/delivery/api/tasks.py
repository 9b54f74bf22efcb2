"""Routes for the delivery team's tasks: the queue, one task in full, beginning a visit, the report, reassigning, the 送达回证 and the print-out with the documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from services.delivery.deps import DepsDep
from services.delivery.handlers import team
from services.delivery.models import TaskStatus
from services.delivery.requests import BeginIn, OutcomeIn, OutcomeOut, ReassignIn, TaskCard, TaskDetail
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.documents import OFD, PDF, served_headers
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["tasks"])

Workers = Annotated[Principal, Depends(require(Role.agent, Role.supervisor))]
Supervisors = Annotated[Principal, Depends(require(Role.supervisor))]
TaskId = Annotated[str, Path(max_length=64)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/tasks", response_model=list[TaskCard], summary="The caller's open visits and postings")
async def my_tasks(
    principal: Workers,
    deps: DepsDep,
    agent: Annotated[str | None, Query(max_length=64, description="supervisors only: one agent's queue")] = None,
    status: Annotated[TaskStatus, Query()] = TaskStatus.open,
) -> list[TaskCard]:
    """An agent sees only their own tasks, late ones first, then soonest window first; a supervisor sees everyone's or one agent's."""
    return await team.tasks(deps, principal=principal, agent=agent, status=status)


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="One visit or posting in full")
async def task(task_id: TaskId, request: Request, principal: Workers, deps: DepsDep) -> TaskDetail:
    """The task's agent or a supervisor: the card, the recipient's role, the address's coordinates, who may sign, and the phones once the visit is begun (each showing audited)."""
    return await team.task(deps, task_id=task_id, principal=principal, client=_client(request))


@router.post("/tasks/{task_id}/begin", response_model=TaskDetail, summary="Begin a visit: show the recipient's phones, with a reason", responses=problems(409))
async def begin(task_id: TaskId, body: BeginIn, request: Request, principal: Workers, deps: DepsDep) -> TaskDetail:
    """Notes the open task's visit as begun (the first time) and shows the recipient's phones; every showing is in the audit log with its reason."""
    return await team.begin(deps, task_id=task_id, reason=body.reason, principal=principal, client=_client(request))


@router.post(
    "/tasks/{task_id}/outcome",
    response_model=OutcomeOut,
    summary="Report what happened on a visit or posting",
    responses=problems(409) | {200: {"description": "Recorded; or, retried under the Idempotency-Key it was recorded with, the report as it stands"}},
)
async def report_outcome(
    task_id: TaskId,
    report: OutcomeIn,
    principal: Workers,
    deps: DepsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=100)] = None,
) -> OutcomeOut:
    """Records the outcome of the caller's open task; a service, refusal or posting that names evidence counts once evidence recorded it unflagged.

    A retry with the Idempotency-Key the report was recorded with answers as the report did and records nothing; another key, or none, answers 409.
    """
    return await team.report_outcome(deps, task_id=task_id, report=report, key=idempotency_key, principal=principal)


@router.post("/tasks/{task_id}/reassign", response_model=TaskCard, summary="Give an open task to another agent (supervisors)", responses=problems(409))
async def reassign(task_id: TaskId, body: ReassignIn, principal: Supervisors, deps: DepsDep) -> TaskCard:
    """Gives the open task to an active agent of the roster, audited with the reason; the agent it leaves no longer sees it."""
    return await team.reassign(deps, task_id=task_id, body=body, principal=principal)


@router.get(
    "/tasks/{task_id}/receipt.pdf",
    response_class=Response,
    summary="The 送达回证 to print and have signed (PDF, A4)",
    responses={200: {"description": "The form, pre-filled", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def receipt(task_id: TaskId, request: Request, principal: Workers, deps: DepsDep) -> Response:
    """The task's agent or a supervisor: the service receipt pre-filled with the court, case, documents, recipient, address and window, blank where it is signed."""
    pdf = await team.receipt(deps, task_id=task_id, principal=principal, client=_client(request))
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="receipt-{task_id}.pdf"'})


_PDF_ANSWER = {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}


@router.get(
    "/tasks/{task_id}/print.pdf",
    response_class=Response,
    summary="What to print for a visit: the 送达回证 followed by the notice's PDF documents (PDF, A4)",
    responses=problems(500, 503) | {200: {"description": "The form, then each PDF document; OFD documents are named on the form and fetched one by one", **_PDF_ANSWER}},
)
async def print_out(task_id: TaskId, request: Request, principal: Workers, deps: DepsDep) -> Response:
    """The task's agent or a supervisor: the pre-filled 送达回证 and then every PDF document the notice serves, as one file; a file the store cannot give answers 503 or 500."""
    pdf = await team.print_out(deps, task_id=task_id, principal=principal, client=_client(request))
    return Response(pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="print-{task_id}.pdf"', "Cache-Control": "private, no-store"})


@router.get(
    "/tasks/{task_id}/documents/{sha256}",
    response_class=Response,
    summary="One document the task's notice serves, byte for byte (an OFD to print separately)",
    responses=problems(500, 503) | {200: {"description": "The file", "content": {PDF: {"schema": {"type": "string", "format": "binary"}}, OFD: {}}}},
)
async def task_document(task_id: TaskId, sha256: Sha256, request: Request, principal: Workers, deps: DepsDep) -> Response:
    """The task's agent or a supervisor: one of the notice's documents as an attachment of its type, sandboxed."""
    document, data = await team.task_document(deps, task_id=task_id, sha256=sha256, principal=principal, client=_client(request))
    content_type = document["content_type"]
    return Response(data, media_type=content_type, headers=served_headers(sha256=sha256, title=document["title"], content_type=content_type, disposition="attachment"))
