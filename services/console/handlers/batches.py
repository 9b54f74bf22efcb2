"""Notices from a workbook through intake's batch API, as the signed-in person: the template, the upload with intake's refusals in Chinese beside the form, and a batch's progress."""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.console.adapters.batches import Batch, Upload
from services.console.adapters.calls import ServiceRefused
from services.console.adapters.intake import Court
from services.console.deps import ConsoleDeps
from services.console.sessions import Visitor
from services.console.texts import FieldError
from shared.plumbing.auth import Role

NO_WORKBOOK = FieldError("workbook", "请选择要上传的 Excel 工作簿（.xlsx）")
NO_COURT = FieldError("court_id", "请选择送达任务所属的法院")
TOO_LARGE = "上传的文件过大，请将工作簿分成几份，每份连同文书分别上传"
# What intake's refusals of a whole upload mean for the person, by the form field they name.
_WHOLE: dict[tuple[int, str], str] = {
    (415, "workbook"): "上传的不是 Excel 工作簿（.xlsx）。请下载模板，填写后另存为 .xlsx 再上传",
    (422, "workbook"): "请选择要上传的 Excel 工作簿（.xlsx）",
    (422, "court_id"): "请选择送达任务所属的法院",
    (403, ""): "您只能为本院提交送达任务",
}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


async def template(deps: ConsoleDeps, *, visitor: Visitor) -> bytes:
    """Returns intake's template workbook."""
    return await deps.batches.template(visitor.principal)


async def courts(deps: ConsoleDeps, *, visitor: Visitor) -> list[Court]:
    """Returns the active courts a supervisor may upload for; a court uploads for itself and is not asked."""
    if visitor.role is not Role.supervisor:
        return []
    return [court for court in await deps.intake.courts(visitor.principal) if court.active]


async def submit(deps: ConsoleDeps, *, visitor: Visitor, upload: Upload) -> str | list[FieldError]:
    """Passes the workbook and its files on to intake; returns the batch id, or what intake refused beside the form's fields."""
    try:
        return await deps.batches.submit(visitor.principal, upload)
    except ServiceRefused as refused:
        if refused.status not in (403, 413, 415, 422):
            raise
        return refusal_errors(refused.status, refused.errors)


def refusal_errors(status: int, errors: Sequence[dict[str, str]]) -> list[FieldError]:
    """Turns intake's refusal of an upload into Chinese messages: the workbook's shape as intake words it, a file by its name, the rest by field."""
    shown: list[FieldError] = []
    for error in errors:
        field, message = error.get("field", ""), error.get("message", "")
        if status == 413:
            found = FieldError("workbook", TOO_LARGE)
        elif field.startswith("files"):
            name = message.split(": ", 1)[0]
            found = FieldError("files", f"文件“{name}”不是可以打开的 PDF 或 OFD 文件，或与另一文件同名。请检查后重新上传")
        elif field == "workbook" and _CHINESE.search(message):
            found = FieldError("workbook", message)
        else:
            key = "workbook" if field in ("workbook", "body") else field if field == "court_id" else ""
            found = FieldError(key or "workbook", _WHOLE.get((status, key), "上传未被受理，请检查工作簿和文书后重新上传"))
        if found not in shown:
            shown.append(found)
    return shown


async def progress(deps: ConsoleDeps, *, visitor: Visitor, batch_id: str) -> Batch:
    """Returns the batch as intake shows it to the person (a court its own only)."""
    return await deps.batches.batch(visitor.principal, batch_id)
