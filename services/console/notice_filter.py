"""The notice list's filter as the address keeps it: reading and checking the query, the query delivery is sent, and the links to other pages of the same list."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from services.console.texts import FieldError

# The filter's fields, in the order the form shows them, with the longest value each takes (delivery's limits).
FIELDS: dict[str, int] = {"case_number": 100, "party": 100, "status": 20, "court": 16, "agent": 64, "due_from": 10, "due_to": 10, "overdue": 3, "warning": 3}
STATUSES = ("in_progress", "completed")
# A yes-or-no filter: the form's words, and what delivery takes.
YES_NO: dict[str, str] = {"yes": "true", "no": "false"}
COURT = re.compile(r"^[A-Z0-9]{2,16}$")
AGENT = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
STALE_PAGE = "分页链接已失效，请从第一页查看"


@dataclass(frozen=True)
class NoticeFilter:
    """What a person asked of the list: the answers as typed (for the form and the links) and the page they are on."""

    values: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None

    def value(self, name: str) -> str:
        """Returns a field's answer, empty when not given."""
        return self.values.get(name, "")

    @property
    def narrowed(self) -> bool:
        """Tells whether any field narrows the list."""
        return bool(self.values)

    def params(self) -> dict[str, str]:
        """Returns the query delivery is sent: each answer given (yes or no as true or false), and the page's cursor."""
        sent = {name: YES_NO.get(value, value) if name in ("overdue", "warning") else value for name, value in self.values.items()}
        return sent | ({"cursor": self.cursor} if self.cursor else {})

    def link(self, path: str, *, cursor: str | None = None) -> str:
        """Returns the address of this list (first page, or the one a cursor names) with the same filter."""
        query = urlencode(self.values | ({"cursor": cursor} if cursor else {}))
        return f"{path}?{query}" if query else path


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read(query: Mapping[str, str]) -> tuple[NoticeFilter, list[FieldError]]:
    """Reads the filter from an address's query, with what is wrong in it field by field; a wrong answer is kept for the form but never sent."""
    typed = {name: " ".join(str(query.get(name, "")).split())[:longest] for name, longest in FIELDS.items()}
    given = {name: value for name, value in typed.items() if value}
    errors: list[FieldError] = []
    if given.get("status", STATUSES[0]) not in STATUSES:
        errors.append(FieldError("status", "请从列表中选择状态"))
    if "court" in given and not COURT.fullmatch(given["court"]):
        errors.append(FieldError("court", "法院编号为2至16位大写字母或数字，例如 C371002"))
    if "agent" in given and not AGENT.fullmatch(given["agent"]):
        errors.append(FieldError("agent", "请从列表中选择送达员"))
    for name in ("overdue", "warning"):
        if given.get(name, "yes") not in YES_NO:
            errors.append(FieldError(name, "请从列表中选择"))
    days = {name: _date(given[name]) for name in ("due_from", "due_to") if name in given}
    for name, day in days.items():
        if day is None:
            errors.append(FieldError(name, "请按“年-月-日”填写日期，例如 2026-11-23"))
    if (start := days.get("due_from")) and (end := days.get("due_to")) and end < start:
        errors.append(FieldError("due_to", "截止日期不能早于起始日期"))
    cursor = str(query.get("cursor", "")) or None
    if cursor is not None and not CURSOR.fullmatch(cursor):
        errors.append(FieldError("", STALE_PAGE))
    return NoticeFilter(values=given, cursor=cursor), errors


# Delivery's names of the query's fields, and the labels of the form's inputs they are shown beside.
SERVICE_FIELDS: dict[str, tuple[str, str]] = {
    "status": ("status", "状态"),
    "court": ("court", "法院"),
    "agent": ("agent", "送达员"),
    "case_number": ("case_number", "案号"),
    "party": ("party", "当事人"),
    "due_from": ("due_from", "起始日期"),
    "due_to": ("due_to", "截止日期"),
    "overdue": ("overdue", "是否超期"),
    "warning": ("warning", "是否预警"),
}
