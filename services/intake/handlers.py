"""Intake's use cases: register a notice (state + outbox in one transaction) and read it back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import domain
from services.intake.models import IntakeNotice
from shared import outbox, topics
from shared.clock import local_date
from shared.events import CandidateAddress, NoticeRegistered, Provenance, Recipient
from shared.problems import Problem
from shared.runtime import Runtime

SOURCE = "songda/intake"


def new_notice(payload: dict[str, Any], *, now: datetime) -> IntakeNotice:
    """Builds the stored notice from a validated request: ids, due date and fingerprint assigned."""
    return IntakeNotice(
        id=str(uuid.uuid4()),
        court_id=payload["court_id"],
        court_reference=payload["court_reference"],
        court_name=payload["court_name"],
        case_number=payload["case_number"],
        cause=payload["cause"],
        stage=payload["stage"],
        due_date=domain.due_date(local_date(now), court_due=_optional_date(payload.get("due_date"))),
        received_at=now,
        correlation_id=str(uuid.uuid4()),
        fingerprint=domain.fingerprint(payload),
        notice=_with_recipient_ids(payload),
    )


async def register_notice(runtime: Runtime, payload: dict[str, Any]) -> tuple[IntakeNotice, bool]:
    """Stores a validated notice and stages intake.NoticeRegistered; returns (notice, created)."""
    now = runtime.clock.now()
    notice = new_notice(payload, now=now)
    envelope = registered_event(notice).envelope(source=SOURCE, subject=notice.id, time=now, correlationid=notice.correlation_id)
    try:
        async with runtime.db.transaction() as session:
            session.add(notice)
            outbox.add(session, envelope, topic=topics.INTAKE_EVENTS, now=now)
    except IntegrityError:
        # The unique (court_id, court_reference) says this notice was submitted before: a resubmission
        # returns the first one, a different notice under the same reference is a conflict.
        async with runtime.db.sessions() as session:
            existing = await _by_reference(session, payload["court_id"], payload["court_reference"])
        if existing is None:
            raise
        return _same_or_conflict(existing, notice.fingerprint), False
    return notice, True


async def find_notice(runtime: Runtime, notice_id: str) -> IntakeNotice | None:
    """Returns a notice by id."""
    async with runtime.db.sessions() as session:
        return await session.get(IntakeNotice, notice_id)


async def _by_reference(session: AsyncSession, court_id: str, court_reference: str) -> IntakeNotice | None:
    result = await session.exec(select(IntakeNotice).where(IntakeNotice.court_id == court_id, IntakeNotice.court_reference == court_reference))
    return result.first()


def _same_or_conflict(existing: IntakeNotice, fingerprint: str) -> IntakeNotice:
    if existing.fingerprint != fingerprint:
        raise Problem(
            409,
            "Conflict",
            f"Court reference {existing.court_reference} was already used for a different notice ({existing.id}).",
            kind="court-reference-conflict",
        )
    return existing


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _with_recipient_ids(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "recipients": [{"recipient_id": str(uuid.uuid4()), **r} for r in payload["recipients"]]}


def registered_event(notice: IntakeNotice) -> NoticeRegistered:
    """Builds the event delivery and evidence consume."""
    data = notice.notice
    return NoticeRegistered(
        notice_id=notice.id,
        court_id=notice.court_id,
        court_name=notice.court_name,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        cause=notice.cause,
        stage=notice.stage,
        documents=data["documents"],
        recipients=[_recipient(r) for r in data["recipients"]],
        due_date=notice.due_date,
        registered_at=notice.received_at,
    )


def _recipient(r: dict[str, Any]) -> Recipient:
    candidates = [
        CandidateAddress(
            text=a["text"],
            postcode=a.get("postcode"),
            location=a.get("location"),
            rank=rank,
            provenance=[Provenance(kind=a["source"])],
        )
        for rank, a in enumerate(r["addresses"], start=1)
    ]
    return Recipient(
        recipient_id=r["recipient_id"],
        name=r["name"],
        kind=r["kind"],
        role=r["role"],
        id_type=r["id_type"],
        id_number=r["id_number"],
        phones=r["phones"],
        emails=r["emails"],
        candidates=candidates,
        lawyer=r.get("lawyer"),
        designated_proxy=r.get("designated_proxy"),
        whereabouts_unknown=r["whereabouts_unknown"],
    )
