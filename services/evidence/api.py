"""Evidence's HTTP API: a notice's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import col, select

from services.evidence.models import EvidenceNotice, EvidenceTimelineEntry
from shared.auth import Principal, Role, require
from shared.problems import Problem
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["evidence"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]


class TimelineEntry(BaseModel):
    position: int
    log_index: int
    event_id: str
    event_type: str
    source: str
    event_time: datetime
    sha256: str
    recorded_at: datetime


class Timeline(BaseModel):
    notice_id: str
    entries: list[TimelineEntry]


@router.get("/notices/{notice_id}/timeline", response_model=Timeline, summary="Every event recorded for a notice, in order")
async def timeline(notice_id: str, principal: Readers, runtime: RuntimeDep) -> Timeline:
    """Returns the notice's timeline; a court sees only its own notices (others answer 404)."""
    async with runtime.db.sessions() as session:
        notice = await session.get(EvidenceNotice, notice_id)
        if notice is None or not principal.may_see(notice.court_id):
            raise Problem(404, "Not found", f"Evidence has no notice {notice_id}.")
        entries = (
            await session.exec(select(EvidenceTimelineEntry).where(EvidenceTimelineEntry.notice_id == notice_id).order_by(col(EvidenceTimelineEntry.id)))
        ).all()
    return Timeline(
        notice_id=notice_id,
        entries=[
            TimelineEntry(position=position, log_index=e.id, event_id=e.event_id, event_type=e.event_type, source=e.source, event_time=e.event_time, sha256=e.sha256, recorded_at=e.recorded_at)
            for position, e in enumerate(entries, start=1)
        ],
    )
