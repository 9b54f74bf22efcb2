"""The court registry: which courts Songda serves, their names and the code their case numbers carry."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.models import IntakeCourt
from shared.contracts.casenumber import CaseNumber
from shared.plumbing.db import insert_ignoring_duplicates
from shared.plumbing.problems import Problem

COURT_ID = r"^[A-Z0-9]{2,16}$"
# 法院代字: 最高法, or a province's one-character abbreviation and up to four digits (see shared.contracts.casenumber).
CASE_CODE = r"^(最高法|[\u4e00-\u9fff]\d{0,4})$"


class CourtIn(BaseModel):
    """A court as a supervisor registers it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=100, description="The court's full name, as SMS, e-mail and reports give it")
    case_code: str = Field(pattern=CASE_CODE, description="The court code its case numbers carry, e.g. 鲁1002")
    active: bool = True


class CourtOut(CourtIn):
    id: str
    updated_at: datetime


def owns_case(court: IntakeCourt, case: CaseNumber) -> bool:
    """Tells whether a case number is one of this court's: its court code is the court's (案号规定 2015, 法院代字)."""
    return case.court_code == court.case_code


async def find(session: AsyncSession, court_id: str) -> IntakeCourt | None:
    """Returns a registered court."""
    return await session.get(IntakeCourt, court_id)


async def every(session: AsyncSession) -> list[IntakeCourt]:
    """Returns every registered court, by id."""
    return list((await session.exec(select(IntakeCourt).order_by(col(IntakeCourt.id)))).all())


async def put(session: AsyncSession, court_id: str, body: CourtIn, *, now: datetime) -> tuple[IntakeCourt, bool]:
    """Registers or changes a court; refuses a case code another court carries. Returns the court and whether it is new."""
    holder = (await session.exec(select(IntakeCourt).where(IntakeCourt.case_code == body.case_code))).first()
    if holder is not None and holder.id != court_id:
        raise Problem(409, "Case code taken", f"case_code: {body.case_code} is court {holder.id}'s", errors=[{"field": "case_code", "message": f"already court {holder.id}'s"}])
    court = await session.get(IntakeCourt, court_id, with_for_update=True)
    created = court is None
    court = court or IntakeCourt(id=court_id, name=body.name, case_code=body.case_code, updated_at=now)
    court.name, court.case_code, court.active, court.updated_at = body.name, body.case_code, body.active, now
    session.add(court)
    return court, created


def read_seed(path: Path) -> dict[str, CourtIn]:
    """Reads a courts file ([[court]] tables with id, name, case_code and optionally active)."""
    with path.open("rb") as file:
        rows = tomllib.load(file).get("court", [])
    return {row["id"]: CourtIn.model_validate({k: v for k, v in row.items() if k != "id"}) for row in rows}


async def seed(session: AsyncSession, courts: dict[str, CourtIn], *, now: datetime) -> int:
    """Registers the courts not registered yet (a court a supervisor changed keeps its changes); returns how many were added."""
    added = 0
    for court_id, court in courts.items():
        # Replicas starting together may seed at once: the first insert wins, the others change nothing.
        insert = insert_ignoring_duplicates(session, IntakeCourt)
        result = await session.exec(insert.values(id=court_id, name=court.name, case_code=court.case_code, active=court.active, updated_at=now))
        added += result.rowcount
    return added
