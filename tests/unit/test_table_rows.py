"""Rows written in bulk: each holds every column of its table, with the values its table model would hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.delivery.models import DeliveryNotice
from services.intake.models import IntakeNotice
from services.intake.notices import unresolved_notice
from services.intake.requests import NoticeIn
from shared.plumbing.db import column_values, table_of
from tests.support import notice_payload

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def columns(model: type[Any]) -> set[str]:
    return {column.key for column in table_of(model).columns}


def test_a_new_notice_row_is_an_intake_notice_row() -> None:
    payload = NoticeIn.model_validate(notice_payload(3)).model_dump(mode="json") | {"court_name": "威海市环翠区人民法院"}
    row = unresolved_notice(payload, now=NOW).row()
    assert set(row) == columns(IntakeNotice)
    assert IntakeNotice(**row).model_dump() == row
    assert row["received_at"] == NOW and row["notice"]["recipients"][0]["recipient_id"]


def test_column_values_are_what_the_model_holds() -> None:
    notice = DeliveryNotice(
        id="n-1",
        court_id="C371002",
        case_number="（2026）鲁1002民初4号",
        stage="first_instance",
        due_date=date(2026, 12, 9),
        status="in_progress",
        correlation_id="c-1",
        registered_at=NOW,
        received_at=NOW,
        documents=[{"title": "传票", "pages": 1}],
    )
    values = column_values(notice)
    assert set(values) == columns(DeliveryNotice)
    assert values == notice.model_dump()
    assert values["documents"] is notice.documents  # handed to the insert as it is, not copied
