"""The notice list's search: the normalised text kept for names and case numbers, the filters as SQL, and the page cursor."""

from __future__ import annotations

import base64
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select

from services.delivery.models import DeliveryNotice, DeliveryTask, NoticeStatus, TaskStatus


def search_text(value: str) -> str:
    """Returns text as the list compares it: NFKC (full-width brackets and letters become plain ones), case folded, without whitespace."""
    return "".join(unicodedata.normalize("NFKC", value).casefold().split())


def party_names(names: Iterable[str]) -> str:
    """Returns the recipients' names as one searchable text, a line each, so that a search never matches across two names."""
    return "\n".join(search_text(name) for name in names)


@dataclass(frozen=True)
class NoticeFilter:
    """What the caller asks of the notice list; every part is optional and narrows the list."""

    status: NoticeStatus | None = None
    court: str | None = None
    # Notices with an open task of this agent.
    agent: str | None = None
    case_number: str | None = None
    party: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    # The early warning raised and the notice not completed.
    warning: bool | None = None


def conditions(wanted: NoticeFilter) -> list[Any]:
    """Returns the WHERE clauses of the filter, in SQL both SQLite and PostgreSQL run."""
    notice = DeliveryNotice
    found: list[Any] = []
    if wanted.status is not None:
        found.append(notice.status == wanted.status)
    if wanted.court is not None:
        found.append(notice.court_id == wanted.court)
    if wanted.agent is not None:
        tasks = select(DeliveryTask.notice_id).where(DeliveryTask.agent_id == wanted.agent, DeliveryTask.status == TaskStatus.open)
        found.append(col(notice.id).in_(tasks))
    if wanted.case_number is not None:
        found.append(col(notice.case_search).contains(search_text(wanted.case_number), autoescape=True))
    if wanted.party is not None:
        found.append(col(notice.party_names).contains(search_text(wanted.party), autoescape=True))
    if wanted.due_from is not None:
        found.append(notice.due_date >= wanted.due_from)
    if wanted.due_to is not None:
        found.append(notice.due_date <= wanted.due_to)
    if wanted.overdue is not None:
        found.append(col(notice.overdue_at).is_not(None) if wanted.overdue else col(notice.overdue_at).is_(None))
    if wanted.warning is not None:
        warned = and_(col(notice.warned_at).is_not(None), col(notice.completed_at).is_(None))
        found.append(warned if wanted.warning else ~warned)
    return found


def after(cursor: tuple[date, str]) -> Any:
    """Returns the clause for the rows after the cursor's row, in the list's order (due date, then notice id)."""
    due, notice_id = cursor
    due_date, notice = col(DeliveryNotice.due_date), col(DeliveryNotice.id)
    return or_(due_date > due, and_(due_date == due, notice > notice_id))


def encode_cursor(due: date, notice_id: str) -> str:
    """Returns the opaque cursor naming the last row of a page."""
    return base64.urlsafe_b64encode(json.dumps([due.isoformat(), notice_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, str]:
    """Returns the last row a cursor names; raises ValueError for anything `encode_cursor` did not make."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) and part for part in value)):
            raise ValueError("not a cursor")
        return date.fromisoformat(value[0]), value[1]
    except (ValueError, TypeError) as bad:
        raise ValueError("not a cursor this list handed out") from bad
