"""Who reaches which of intake's objects: a court its own cases and notices, a lawyer what its firm was served, overseers everything."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import courts
from services.intake.models import IntakeConfirmation, IntakeCourt, IntakeNotice, IntakeRecipient
from shared.contracts.casenumber import CaseNumber
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem


def missing_notice(notice_id: str) -> Problem:
    """The answer for a notice that does not exist, and for one the caller may not see: the same, so nothing leaks."""
    return Problem(404, "Not found", f"No notice {notice_id}.")


def check_submitter(principal: Principal, court_id: str) -> None:
    """Refuses a court submitting a notice in another court's name; services submit for any court."""
    if principal.role is Role.court and principal.sub != court_id:
        raise Problem(403, "Forbidden", f"A court may submit only its own notices; this token is for court {principal.sub}.")


async def calling_court(session: AsyncSession, principal: Principal) -> IntakeCourt:
    """Returns the registry entry of the court a court token speaks for; an unregistered or inactive court is refused."""
    court = await courts.find(session, principal.sub)
    if court is None or not court.active:
        raise Problem(403, "Forbidden", f"Court {principal.sub} is not registered with Songda, or no longer active.")
    return court


def not_its_case(case: CaseNumber, court: IntakeCourt) -> str:
    """Says that a case carries another court's code."""
    return f"{case.text} is not a case of court {court.id} (its cases carry {court.case_code})"


def not_your_case(case: CaseNumber, court: IntakeCourt) -> Problem:
    """The refusal of a court reaching a case that carries another court's code."""
    message = not_its_case(case, court)
    return Problem(403, "Forbidden", f"case_number: {message}", errors=[{"field": "case_number", "message": message}])


async def check_case(session: AsyncSession, principal: Principal, case: CaseNumber) -> None:
    """Refuses a court writing to or reading a case that is not its own; services and supervisors reach every case."""
    if principal.role is Role.court:
        court = await calling_court(session, principal)
        if not courts.owns_case(court, case):
            raise not_your_case(case, court)


def visible_recipients(principal: Principal, notice: IntakeNotice) -> list[dict[str, Any]] | None:
    """Returns the recipients of a notice the caller may see, or None when it may see none of the notice."""
    recipients: list[dict[str, Any]] = notice.notice["recipients"]
    if principal.reaches_court(notice.court_id):
        return recipients
    if principal.role is Role.lawyer:
        # A firm sees the parties its lawyers represent, never the other side's identity and contacts.
        represented = [r for r in recipients if (r.get("lawyer") or {}).get("firm_uscc") == principal.sub]
        return represented or None
    return None


async def names_party(session: AsyncSession, *, court_id: str, case: CaseNumber, party_id: str | None) -> bool:
    """Tells whether one of the court's notices in the case, or an address confirmation in it, names the party."""
    if party_id is None:
        return False
    notice = select(IntakeRecipient.id).join(IntakeNotice, col(IntakeNotice.id) == col(IntakeRecipient.notice_id))
    notice = notice.where(IntakeRecipient.party_id == party_id, IntakeNotice.court_id == court_id, IntakeNotice.case_key == case.key)
    if (await session.exec(notice.limit(1))).first() is not None:
        return True
    confirmation = select(IntakeConfirmation.id).where(IntakeConfirmation.party_id == party_id, IntakeConfirmation.case_key == case.key)
    return (await session.exec(confirmation.limit(1))).first() is not None
