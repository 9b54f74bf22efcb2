"""Who reaches which of evidence's objects: a court its own notices' items, timeline and reports, and its webhook; an agent what it uploads for its open tasks; overseers all."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from services.evidence.items import UploadMetadata, is_standing
from services.evidence.models import EvidenceItem, EvidenceNotice, EvidenceTask
from shared.plumbing.auth import OVERSEERS, Principal, Role
from shared.plumbing.problems import Problem


def sees_notice(principal: Principal, notice: EvidenceNotice | None) -> bool:
    """Tells whether the caller reaches a notice's timeline, items and reports: its court, or an overseer."""
    return notice is not None and principal.reaches_court(notice.court_id)


def works_on(principal: Principal, task: EvidenceTask | None) -> bool:
    """Tells whether the caller is the agent of an open task."""
    return task is not None and principal.role is Role.agent and task.agent_id == principal.sub and not task.closed


async def sees_item(session: AsyncSession, principal: Principal, item: EvidenceItem | None) -> bool:
    """Tells whether the caller reaches an item: its notice's court, an overseer, or the agent who uploaded it while the task is open."""
    if item is None:
        return False
    if is_standing(item.kind):
        return principal.role in OVERSEERS
    if principal.role is Role.agent:
        task = await session.get(EvidenceTask, item.task_id) if item.task_id else None
        return item.uploaded_by == principal.sub and works_on(principal, task)
    return sees_notice(principal, await session.get(EvidenceNotice, item.notice_id))


@functools.cache
def _notice_and_task() -> Select[EvidenceNotice, EvidenceTask]:
    # One round trip for both, in a statement built once: every upload asks. A task of another notice is still found, and refused below.
    return select(EvidenceNotice, EvidenceTask).outerjoin(EvidenceTask, col(EvidenceTask.task_id) == bindparam("task_id")).where(col(EvidenceNotice.id) == bindparam("notice_id"))


async def upload_target(session: AsyncSession, principal: Principal, meta: UploadMetadata) -> tuple[EvidenceNotice | None, EvidenceTask | None]:
    """Returns the notice and task an upload is for (none for a firm's agreement, which a supervisor files), refusing what the caller may not add evidence to."""
    if is_standing(meta.kind):
        if principal.role is not Role.supervisor:
            raise Problem(403, "Forbidden", "kind: a firm's agreement is filed by a supervisor keeping the firm registry")
        return None, None
    found = (await session.exec(_notice_and_task(), params={"notice_id": meta.notice_id, "task_id": meta.task_id})).first()
    notice, task = found if found is not None else (None, None)
    if notice is None:
        raise Problem(422, "Invalid evidence", f"metadata.notice_id: evidence knows no notice {meta.notice_id}")
    if meta.task_id and task is None:
        raise Problem(409, "Unknown task", f"metadata.task_id: evidence has not yet heard of task {meta.task_id}; retry shortly", headers={"Retry-After": "2"})
    if task is not None and task.notice_id != notice.id:
        raise Problem(422, "Invalid evidence", f"metadata.task_id: task {task.task_id} is not of notice {notice.id}")
    if principal.role is Role.agent and not works_on(principal, task):
        raise Problem(403, "Forbidden", "metadata.task_id: an agent uploads evidence for an open task assigned to them")
    return notice, task


def keeps_webhook(principal: Principal, court_id: str) -> bool:
    """Tells whether the caller registers and reads a court's webhook: that court, or a supervisor."""
    return principal.role is Role.supervisor or principal.is_court(court_id)


def scoped_key(principal: Principal, key: str | None) -> str | None:
    """Scopes an Idempotency-Key to its caller, so one caller's key never answers with another's item."""
    return None if key is None else f"{principal.role.value}:{principal.sub}:{key}"
