"""The delivery team's work through delivery's and evidence's APIs, as the signed-in person: Today, a task, beginning it, its evidence and its outcome."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.console import forms
from services.console.adapters.calls import ServiceRefused
from services.console.adapters.delivery import OutcomeOut, TaskCard, TaskDetail
from services.console.adapters.evidence import EvidenceOut
from services.console.deps import ConsoleDeps
from services.console.domain import Window, by_window
from services.console.forms import Item, OutcomeForm
from services.console.sessions import Visitor
from services.console.texts import UPLOAD_REFUSALS, FieldError, refusal_errors

# The file name evidence is told, by type: the person's own file names may carry names or places.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov"}


@dataclass(frozen=True)
class Upload:
    """A file the agent took for a task: a photo, a drawn signature or the signed 送达回证, with where it was taken if the phone said."""

    content: bytes
    content_type: str
    kind: str
    scene: str | None
    key: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class UploadRefused:
    """Evidence would not take the file (too large, not a photo, unreadable): the status and what to tell the agent."""

    status: int
    message: str


@dataclass(frozen=True)
class Checked:
    """A form read and checked: the task, the form with what was uploaded with it, and what is still wrong."""

    task: TaskDetail
    form: OutcomeForm
    errors: list[FieldError]


@dataclass(frozen=True)
class Recorded:
    """What recording the outcome did to the task and the recipient."""

    form: OutcomeForm
    result: OutcomeOut


async def today(deps: ConsoleDeps, *, visitor: Visitor) -> list[Window[TaskCard]]:
    """Returns the person's open visits and postings by day and window, the late ones first."""
    return by_window(await deps.delivery.tasks(visitor.principal))


async def task(deps: ConsoleDeps, *, visitor: Visitor, task_id: str) -> TaskDetail:
    """Returns one task the person may open (delivery answers 404 for another's)."""
    return await deps.delivery.task(visitor.principal, task_id)


async def begin(deps: ConsoleDeps, *, visitor: Visitor, task_id: str, reason: str) -> TaskDetail:
    """Begins the visit with its reason (delivery audits it) and returns the task with the recipient's phones."""
    return await deps.delivery.begin(visitor.principal, task_id, reason=reason)


async def print_out(deps: ConsoleDeps, *, visitor: Visitor, task_id: str) -> bytes:
    """Returns the pre-filled 送达回证 followed by the task's PDF documents, as one PDF to print."""
    return await deps.delivery.print_out(visitor.principal, task_id)


async def document(deps: ConsoleDeps, *, visitor: Visitor, task_id: str, sha256: str) -> tuple[bytes, str]:
    """Returns one document of the task (an OFD, printed apart) and its content type."""
    return await deps.delivery.document(visitor.principal, task_id, sha256)


async def add_evidence(deps: ConsoleDeps, *, visitor: Visitor, task_id: str, upload: Upload) -> EvidenceOut | UploadRefused:
    """Uploads a file for one of the person's tasks to evidence, which checks a photo's time and place at once; a file it refuses is said in Chinese."""
    found = await deps.delivery.task(visitor.principal, task_id)
    try:
        return await _upload(deps, visitor=visitor, task=found, upload=upload)
    except ServiceRefused as refused:
        if refused.status not in UPLOAD_REFUSALS:
            raise
        return UploadRefused(status=refused.status, message=UPLOAD_REFUSALS[refused.status])


async def _upload(deps: ConsoleDeps, *, visitor: Visitor, task: TaskDetail, upload: Upload) -> EvidenceOut:
    metadata: dict[str, Any] = {"notice_id": task.notice_id, "kind": upload.kind, "recipient_id": task.recipient_id, "task_id": task.task_id}
    if upload.scene is not None:
        metadata["scene"] = upload.scene
    else:
        # Drawn or photographed now; a photo's own time is in its EXIF, which evidence checks against the task's window.
        metadata["captured_at"] = deps.clock.now().isoformat()
    if upload.lat is not None and upload.lon is not None:
        metadata["location"] = {"lat": upload.lat, "lon": upload.lon}
    filename = f"{upload.kind}.{EXTENSIONS.get(upload.content_type, 'bin')}"
    return await deps.evidence.upload(visitor.principal, content=upload.content, filename=filename, content_type=upload.content_type, metadata=metadata, key=upload.key)


async def check_outcome(deps: ConsoleDeps, *, visitor: Visitor, task_id: str, form: OutcomeForm, files: Sequence[tuple[str, bytes, str]]) -> Checked:
    """Uploads the files a form sent without JavaScript (kind, bytes, type), then checks the form before the person confirms it."""
    found = await deps.delivery.task(visitor.principal, task_id)
    items = []
    for kind, content, content_type in files:
        # The form's key and the file's hash: sending the same form again uploads nothing twice.
        key = f"{form.key}:{hashlib.sha256(content).hexdigest()[:32]}"
        upload = Upload(content=content, content_type=content_type, kind=kind, scene=forms.SCENES.get(form.outcome) if kind == "photo" else None, key=key)
        item = await _upload(deps, visitor=visitor, task=found, upload=upload)
        items.append(Item(id=item.id, kind=item.kind, flags=tuple(item.flags)))
    form = form.with_evidence(items)
    return Checked(task=found, form=form, errors=forms.check(form, signer_roles=found.signer_roles, now=deps.clock.now()))


async def record_outcome(deps: ConsoleDeps, *, visitor: Visitor, task_id: str, form: OutcomeForm) -> Recorded | Checked:
    """Sends the confirmed outcome under the form's idempotency key; what delivery refuses comes back field by field in Chinese."""
    # The report goes first, without reading the task: a retry under the same key is answered from what was stored.
    errors = forms.check(form, signer_roles=None, now=deps.clock.now())
    if not errors:
        try:
            return Recorded(form=form, result=await deps.delivery.report(visitor.principal, task_id, outcome=forms.report(form), key=form.key))
        except ServiceRefused as refused:
            if refused.status != 422:
                raise
            errors = refusal_errors(refused.errors, outcome=form.outcome)
    return Checked(task=await deps.delivery.task(visitor.principal, task_id), form=form, errors=errors)
