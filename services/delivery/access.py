"""Who reaches which of delivery's objects: a court its notices, an agent the recipients of its open tasks, a lawyer those its firm represents, overseers all."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.models import DeliveryNotice, DeliveryRecipient, DeliveryTask
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem


def missing_notice(notice_id: str) -> Problem:
    """The answer for a notice delivery does not have, and for one the caller may not see: the same, so nothing leaks."""
    return Problem(404, "Not found", f"Delivery has no notice {notice_id} (yet: registration reaches delivery within moments).")


def missing_recipient(recipient_id: str) -> Problem:
    """The answer for a recipient delivery does not have."""
    return Problem(404, "Not found", f"Delivery has no recipient {recipient_id}.")


def missing_task(task_id: str) -> Problem:
    """The answer for a task that does not exist, and for another agent's."""
    return Problem(404, "Not found", f"You have no task {task_id}.")


async def visible_recipients(session: AsyncSession, principal: Principal, notice: DeliveryNotice, rows: Sequence[DeliveryRecipient]) -> list[DeliveryRecipient]:
    """Returns the recipients of a notice the caller may see; none means the notice answers as missing."""
    if principal.reaches_court(notice.court_id):
        return list(rows)
    if principal.role is Role.agent:
        # An agent reaches a recipient while a visit or posting for it is open and assigned to them.
        tasks = select(DeliveryTask.recipient_id).where(DeliveryTask.notice_id == notice.id, DeliveryTask.agent_id == principal.sub, DeliveryTask.status == "open")
        mine = set((await session.exec(tasks)).all())
        return [row for row in rows if row.id in mine]
    if principal.role is Role.lawyer:
        return [row for row in rows if represented_by(row, principal.sub)]
    return []


def represented_by(row: DeliveryRecipient, firm_uscc: str) -> bool:
    """Tells whether a lawyer of the firm represents the recipient (CPL 88: the litigation agent)."""
    lawyer = row.state.get("recipient", {}).get("lawyer") or {}
    return lawyer.get("firm_uscc") == firm_uscc


def may_publish(principal: Principal, notice: DeliveryNotice) -> bool:
    """Tells whether the caller may record a public notice for the notice: its court, or a supervisor."""
    return principal.role is Role.supervisor or principal.is_court(notice.court_id)


def reaches_task(principal: Principal, task: DeliveryTask | None) -> bool:
    """Tells whether the caller may report on a task: the agent it is assigned to, or a supervisor."""
    return task is not None and (principal.role is Role.supervisor or (principal.role is Role.agent and task.agent_id == principal.sub))
