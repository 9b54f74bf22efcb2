"""The delivery team's pages: Today, a task, beginning it, printing its papers, uploading evidence, and recording the outcome with a check before it is sent."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from services.console import access, forms, posted, texts
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.errors import PageError, page
from services.console.forms import Item, OutcomeForm
from services.console.handlers import tasks
from services.console.handlers.tasks import Checked, Recorded, Upload, UploadRefused
from services.console.pages import is_htmx, render
from services.console.texts import FieldError

router = APIRouter(include_in_schema=False)

TaskId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
Outcome = Annotated[str, Path(pattern=r"^(served|refused|not_found|moved|posted)$")]
STALE_FORM = PageError(400, "表单已失效", "此表单已失效，内容未提交。请重新打开任务页面填写。")
# Labels the check page uses where an outcome words a field its own way.
CHECK_LABELS: dict[str, dict[str, str]] = {"refused": {"note": "拒收事由", "at": "留置时间"}}


@router.get("/today", response_class=HTMLResponse)
async def today(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Lists the agent's open visits and postings by day and window, late ones first; htmx refreshes the list alone."""
    access.admit(visitor, access.TODAY)
    windows = await tasks.today(deps, visitor=visitor)
    return render("_today_list.html" if is_htmx(request) else "today.html", request=request, windows=windows)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
async def task(task_id: TaskId, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows one task: the party, the address, the papers to take, beginning the visit and the outcomes it may have."""
    access.admit(visitor, access.TASKS)
    found = await tasks.task(deps, visitor=visitor, task_id=task_id)
    return render("task.html", request=request, task=found, begin_errors=[])


@router.post("/tasks/{task_id}/begin", response_class=HTMLResponse)
async def begin(task_id: TaskId, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Begins the visit with a reason and shows the recipient's phones (htmx swaps the contact panel; without it, the page again)."""
    access.admit(visitor, access.TASKS)
    reason = posted.answer(await posted.submitted(request), "reason", longest=200)
    if len(reason) < 2:
        found = await tasks.task(deps, visitor=visitor, task_id=task_id)
        errors = [FieldError("reason", "请填写开始送达的事由（至少两个字）")]
        template = "_contact.html" if is_htmx(request) else "task.html"
        return render(template, request=request, status=422, task=found, begin_errors=errors)
    begun = await tasks.begin(deps, visitor=visitor, task_id=task_id, reason=reason)
    if is_htmx(request):
        return render("_contact.html", request=request, task=begun, begin_errors=[])
    return RedirectResponse(f"/tasks/{task_id}#contact", status_code=303)


@router.get("/tasks/{task_id}/print.pdf")
async def print_out(task_id: TaskId, visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over the pre-filled 送达回证 followed by the task's PDF documents, one PDF to print."""
    access.admit(visitor, access.TASKS)
    pdf = await tasks.print_out(deps, visitor=visitor, task_id=task_id)
    headers = {"Content-Disposition": f'attachment; filename="songda-print-{task_id}.pdf"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/tasks/{task_id}/documents/{sha256}")
async def document(task_id: TaskId, sha256: Sha256, visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over one document of the task that is printed apart (an OFD), as an attachment under a sandboxing policy."""
    access.admit(visitor, access.TASKS)
    data, content_type = await tasks.document(deps, visitor=visitor, task_id=task_id, sha256=sha256)
    headers = {
        "Content-Disposition": f'attachment; filename="songda-{sha256[:16]}.ofd"' if content_type == "application/ofd" else "attachment",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(data, media_type=content_type, headers=headers)


def _outcome_page(request: Request, found: tasks.TaskDetail, form: OutcomeForm, errors: list[FieldError], *, status: int = 200) -> HTMLResponse:
    return render("outcome.html", request=request, status=status, task=found, form=form, errors=errors, kinds=forms.KINDS, scene=forms.SCENES.get(form.outcome))


@router.get("/tasks/{task_id}/outcome/{outcome}", response_class=HTMLResponse)
async def outcome_form(task_id: TaskId, outcome: Outcome, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the form for one outcome with the law it rests on, and a new idempotency key for its submission."""
    access.admit(visitor, access.TASKS)
    found = await tasks.task(deps, visitor=visitor, task_id=task_id)
    if outcome not in found.outcomes:
        return page(request, 404, message=f"此任务不能记录为“{texts.OUTCOMES[outcome]}”。请返回任务页面选择。")
    return _outcome_page(request, found, forms.empty(outcome), [])


async def _files(submitted: FormData, outcome: str, *, limit: int) -> list[tuple[str, bytes, str]]:
    """Returns the files a form sent without JavaScript, as (evidence kind, bytes, type); refuses one over the limit (413)."""
    fields = {"photos": "photo"} if outcome in forms.SCENES else {"receipt_photo": "signed_receipt"} if outcome == "served" else {}
    files = []
    for name, kind in fields.items():
        for part in submitted.getlist(name):
            if isinstance(part, UploadFile) and part.filename:
                content = await part.read(limit + 1)
                if len(content) > limit:
                    raise PageError(413, "文件过大", f"每个文件不能超过 {math.floor(limit / 2**20)} MB。请重新拍摄后再试。")
                if content:
                    files.append((kind, content, part.content_type or "application/octet-stream"))
    return files


@router.post("/tasks/{task_id}/outcome/{outcome}", response_class=HTMLResponse)
async def outcome_step(task_id: TaskId, outcome: Outcome, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Moves the form on: `check` shows the answers to confirm, `edit` goes back to the form, `submit` records the outcome once."""
    access.admit(visitor, access.TASKS)
    submitted = await posted.submitted(request)
    form = forms.read(outcome, {name: [str(v) for v in submitted.getlist(name) if isinstance(v, str)] for name in submitted})
    if form is None:
        raise STALE_FORM
    step = submitted.get("step")
    if step == "edit":
        return _outcome_page(request, await tasks.task(deps, visitor=visitor, task_id=task_id), form, [])
    if step == "submit":
        done = await tasks.record_outcome(deps, visitor=visitor, task_id=task_id, form=form)
        if isinstance(done, Recorded):
            return render("_standing.html" if is_htmx(request) else "result.html", request=request, form=done.form, result=done.result)
        return _outcome_page(request, done.task, done.form, done.errors, status=422)
    files = await _files(submitted, outcome, limit=deps.max_upload_bytes)
    checked: Checked = await tasks.check_outcome(deps, visitor=visitor, task_id=task_id, form=form, files=files)
    if checked.errors:
        return _outcome_page(request, checked.task, checked.form, checked.errors, status=422)
    doubtful = any(texts.flag(f).blocking for item in checked.form.evidence for f in item.flags)
    fields = forms.FIELDS[outcome]
    return render("check.html", request=request, task=checked.task, form=checked.form, fields=fields, labels=CHECK_LABELS.get(outcome, {}), doubtful=doubtful)


@router.post("/tasks/{task_id}/evidence", response_class=HTMLResponse)
async def evidence(task_id: TaskId, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Uploads a photo, a drawn signature or the signed 送达回证 at once and shows evidence's checks in Chinese (a fragment for the form's list)."""
    access.admit(visitor, access.TASKS)
    submitted = await posted.submitted(request)
    file = posted.file_of(submitted, "file")
    try:
        fields = forms.EvidenceFields.model_validate({name: value for name, value in submitted.items() if isinstance(value, str) and value})
    except ValidationError:
        fields = None
    if file is None or fields is None:
        return render("_upload_refused.html", request=request, status=422, message=texts.UPLOAD_REFUSALS[422])
    content = await file.read(deps.max_upload_bytes + 1)
    if len(content) > deps.max_upload_bytes or not content:
        return render("_upload_refused.html", request=request, status=413 if content else 422, message=texts.UPLOAD_REFUSALS[413 if content else 422])
    upload = Upload(
        content=content,
        content_type=file.content_type or "application/octet-stream",
        kind=fields.kind,
        scene=fields.scene if fields.kind == "photo" else None,
        key=f"console:{fields.key}",
        lat=fields.lat,
        lon=fields.lon,
    )
    added = await tasks.add_evidence(deps, visitor=visitor, task_id=task_id, upload=upload)
    if isinstance(added, UploadRefused):
        return render("_upload_refused.html", request=request, status=added.status, message=added.message)
    return render("_evidence.html", request=request, item=Item(id=added.id, kind=added.kind, flags=tuple(added.flags)))
