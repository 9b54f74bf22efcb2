"""Submitting a notice through intake, as the signed-in person: each chosen file uploaded first (kept by its sha256 through any correction), then the notice; intake's refusals beside the fields they name, in Chinese."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import UploadFile

from services.console.adapters.calls import ServiceRefused, ServiceUnavailable
from services.console.adapters.intake import Court, NoticeRecord
from services.console.deps import ConsoleDeps
from services.console.notice_form import NoticeForm
from services.console.sessions import Visitor
from services.console.texts import FieldError, explain
from shared.plumbing.auth import Role
from shared.plumbing.clock import SHANGHAI

# What intake's refusals of a file mean, by status.
UPLOAD_REFUSALS: dict[int, str] = {
    413: "文件过大，请压缩或拆分后再上传",
    415: "只能上传 PDF 或 OFD 格式的文书",
    422: "无法读取此文件（可能已损坏或加密），请重新导出后上传",
}
REFERENCE_TAKEN = "此编号已用于本院另一份内容不同的通知，请换一个编号"
COURT_REFUSED = "受理服务不接受本院提交：本院尚未登记或已停用，请联系送达主管"
CHOOSE_COURT = "请先选择法院，文书将为该法院上传"


@dataclass(frozen=True)
class Refused:
    """The form with what is wrong, field by field, and the status the page answers with."""

    form: NoticeForm
    errors: list[FieldError]
    status: int


def suggested_reference(court_id: str, now: datetime) -> str:
    """Returns a new court reference for a notice typed in: the court, the day in Beijing and six random letters (the same reference again is the same notice to intake)."""
    return f"{court_id or 'WEB'}-{now.astimezone(SHANGHAI):%Y%m%d}-{secrets.token_hex(3).upper()}"


def blank(visitor: Visitor, *, now: datetime) -> NoticeForm:
    """Returns a new form: for a court its own reference suggested; a supervisor chooses the court first."""
    court_id = visitor.scope if visitor.role is Role.court else ""
    return NoticeForm(values={"court_reference": suggested_reference(court_id, now), "stage": "first_instance"})


async def courts(deps: ConsoleDeps, *, visitor: Visitor) -> list[Court]:
    """Returns the active courts a supervisor may submit for (a court submits for itself); without intake, none."""
    if visitor.role is Role.court:
        return []
    try:
        return [court for court in await deps.intake.courts(visitor.principal) if court.active]
    except ServiceUnavailable:
        return []


async def upload(deps: ConsoleDeps, *, visitor: Visitor, form: NoticeForm, files: dict[str, UploadFile]) -> list[FieldError]:
    """Uploads each chosen file to intake for the form's court and keeps its sha256, type and pages in its row; returns each file intake refused."""
    court_id = visitor.scope if visitor.role is Role.court else form.value("court_id")
    if files and not court_id:
        return [FieldError("court_id", CHOOSE_COURT)]
    errors: list[FieldError] = []
    for name, file in files.items():
        index = int(name.split("[", 1)[1].split("]", 1)[0])
        content = await file.read(deps.max_upload_bytes + 1)
        if len(content) > deps.max_upload_bytes:
            errors.append(FieldError(name, f"第{index + 1}份文书：{UPLOAD_REFUSALS[413]}"))
            continue
        try:
            stored = await deps.intake.upload(
                visitor.principal, court_id=court_id, content=content, filename=file.filename or "document", content_type=file.content_type or "application/octet-stream"
            )
        except ServiceRefused as refused:
            if any(error["field"] == "court_id" for error in refused.errors):
                # The court a supervisor chose is not one intake takes documents for: said once, beside it.
                return [FieldError("court_id", explain(refused.errors[0]["message"], "法院"))]
            if refused.status not in UPLOAD_REFUSALS:
                raise
            errors.append(FieldError(name, f"第{index + 1}份文书：{UPLOAD_REFUSALS[refused.status]}"))
            continue
        row = form.documents[index]
        row |= {"sha256": stored.sha256, "filename": (stored.filename or file.filename or "")[:200], "content_type": stored.content_type}
        row |= {"pages": str(stored.pages)} if stored.pages else {}
        if not row.get("title"):
            row["title"] = (file.filename or "").rsplit(".", 1)[0][:200]
    return errors


async def submit(deps: ConsoleDeps, *, visitor: Visitor, form: NoticeForm, files: dict[str, UploadFile]) -> NoticeRecord | Refused:
    """Uploads the chosen files, then submits the notice unless something is already wrong; intake's refusals come back beside their fields."""
    if visitor.role is Role.court:
        form.values["court_id"] = visitor.scope
    refused = await upload(deps, visitor=visitor, form=form, files=files)
    # A file chosen but not stored (refused, or no court chosen yet) is said once, not asked for again.
    errors = refused + [e for e in form.errors() if e.field not in {r.field for r in refused} | set(files)]
    if errors:
        return Refused(form=form, errors=errors, status=422)
    try:
        return await deps.intake.submit(visitor.principal, form.body())
    except ServiceRefused as refusal:
        if refusal.status == 409:
            return Refused(form=form, errors=[FieldError("court_reference", REFERENCE_TAKEN)], status=409)
        if refusal.status == 403 and not refusal.problem.get("errors"):
            return Refused(form=form, errors=[FieldError("", COURT_REFUSED)], status=403)
        if refusal.status not in (403, 422):
            raise
        return Refused(form=form, errors=placed(form, refusal.errors), status=refusal.status)


def placed(form: NoticeForm, errors: list[dict[str, str]]) -> list[FieldError]:
    """Returns intake's problems in Chinese beside the inputs they name (in the summary only when the form has no input for them)."""
    shown: list[FieldError] = []
    for error in errors:
        name, label = form.place(error.get("field", ""))
        found = FieldError(name, explain(error.get("message", ""), label))
        if found not in shown:
            shown.append(found)
    return shown
