"""Notices from an Excel workbook on real PostgreSQL: a 200-notice workbook with a bad row and a duplicate, intake stopped or SIGKILLed mid-batch, the workbook's shape refused whole."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import func, select

from services.intake.config import IntakeSettings
from services.intake.main import create_app
from services.intake.models import IntakeBatchRow, IntakeNotice
from shared.plumbing.auth import Role
from shared.plumbing.db import Database
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import Runtime
from songda.devstack import Stack
from tests import workbooks
from tests.support import eventually, free_port, running, sample_pdf, settings, stack_env, token

COURT = token(Role.court, "C371002")
# Intake registers several hundred rows a second: a batch this long is still running when a test stops intake after its tenth.
LONG_BATCH = 500


@pytest.fixture
async def make_intake(kafka, topic_prefix, make_database, tmp_path: Path) -> Callable[[], FastAPI]:
    """Returns a maker of intake apps over one database and one document store, so a test can stop intake and start it again."""
    configured = settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix, batch_poll_ms=50)
    configured.common.documents_dir = tmp_path / "documents"
    return lambda: create_app(configured)


@pytest.fixture
async def intake(make_intake) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = make_intake()
    async with running(app) as client:
        yield client, app.state.runtime


def upload(data: bytes, *, files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Returns httpx's files= for a workbook and its documents (the sample PDF as 传票.pdf by default)."""
    documents = files if files is not None else {workbooks.FILE: sample_pdf()}
    parts = [("workbook", ("送达任务.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))]
    parts += [("files", (name, content, "application/pdf")) for name, content in documents.items()]
    return {"files": parts}


async def finished(client: httpx.AsyncClient, batch_id: str, *, timeout: float = 120) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        body = (await client.get(f"/v1/notice-batches/{batch_id}", headers=COURT)).json()
        return body if body["status"] == "done" else None

    return await eventually(done, timeout=timeout, what=f"batch {batch_id} to be registered")


async def rows_done(db: Database) -> int:
    """Counts the batch rows whose outcome has committed."""
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(IntakeBatchRow).where(IntakeBatchRow.status != "pending")) or 0


async def ten_rows_done(db: Database) -> None:
    """Waits, looking often and cheaply, until ten rows of a batch have their outcome."""

    async def ten() -> bool:
        return await rows_done(db) >= 10

    await eventually(ten, interval=0.01, what="ten notices registered")


async def counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.sessions() as session:
        notices = await session.scalar(select(func.count()).select_from(IntakeNotice))
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return notices, messages


async def test_a_workbook_registers_every_good_notice_refuses_the_bad_row_by_cell_and_recognises_the_duplicate(intake) -> None:
    client, runtime = intake
    data = workbooks.notices(200, changes={3: {"证件号码": "371002198503124211"}})
    # The court submitted notice 7 before, as the workbook has it: it is recognised by its reference and not doubled.
    seven = await finished(
        client,
        (await client.post("/v1/notice-batches", headers=COURT, **upload(workbooks.workbook([workbooks.task_row(7)], [workbooks.document_row("WB-0-00007")])))).json()["batch_id"],
    )
    assert seven["registered"] == 1
    accepted = await client.post("/v1/notice-batches", headers=COURT, **upload(data))
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]
    assert accepted.headers["location"] == f"/v1/notice-batches/{batch_id}"

    body = await finished(client, batch_id)
    assert (body["total"], body["done"], body["registered"], body["duplicates"], body["refused"]) == (200, 200, 198, 1, 1)
    refused = [r for r in body["rows"] if r["status"] == "refused"]
    assert refused == [
        {
            "sheet": "送达任务",
            "row": 5,
            "court_reference": "WB-0-00003",
            "status": "refused",
            "notice_id": None,
            "errors": [{"sheet": "送达任务", "row": 5, "column": "证件号码", "field": "recipients[0].id_number", "message": "居民身份证号码校验位不符，请核对"}],
        }
    ]
    assert [r["court_reference"] for r in body["rows"] if r["status"] == "duplicate"] == ["WB-0-00007"]
    assert len({r["notice_id"] for r in body["rows"] if r["status"] != "refused"}) == 199
    assert await counts(runtime) == (199, 199)

    again = await client.post("/v1/notice-batches", headers=COURT, **upload(data))
    second = await finished(client, again.json()["batch_id"])
    assert (second["registered"], second["duplicates"], second["refused"]) == (0, 199, 1)
    assert [r["notice_id"] for r in second["rows"]] == [r["notice_id"] for r in body["rows"]]
    assert await counts(runtime) == (199, 199)


async def test_a_notice_submitted_before_is_a_duplicate_and_one_submitted_differently_is_refused(intake) -> None:
    client, runtime = intake
    data = workbooks.notices(3)
    first = await finished(client, (await client.post("/v1/notice-batches", headers=COURT, **upload(workbooks.notices(1)))).json()["batch_id"])
    changed = workbooks.notices(3, changes={0: {"案由": "买卖合同纠纷"}})
    assert first["registered"] == 1
    batch = await finished(client, (await client.post("/v1/notice-batches", headers=COURT, **upload(data))).json()["batch_id"])
    assert [r["status"] for r in batch["rows"]] == ["duplicate", "registered", "registered"]
    assert batch["rows"][0]["notice_id"] == first["rows"][0]["notice_id"]
    conflict = await finished(client, (await client.post("/v1/notice-batches", headers=COURT, **upload(changed))).json()["batch_id"])
    assert [r["status"] for r in conflict["rows"]] == ["refused", "duplicate", "duplicate"]
    assert conflict["rows"][0]["errors"][0]["column"] == "法院编号"
    assert await counts(runtime) == (3, 3)


async def test_a_worker_stopped_mid_batch_continues_after_restart_and_registers_no_notice_twice(make_intake) -> None:
    data = workbooks.notices(LONG_BATCH, seed=2)
    app = make_intake()
    async with running(app) as client:
        batch_id = (await client.post("/v1/notice-batches", headers=COURT, **upload(data))).json()["batch_id"]
        await ten_rows_done(app.state.runtime.db)
    # Stopping intake cancelled the worker wherever it was, an open transaction rolled back with it.
    again = make_intake()
    async with running(again) as client:
        before = await rows_done(again.state.runtime.db)
        assert 10 <= before < LONG_BATCH, "the batch was to be stopped half done"
        body = await finished(client, batch_id)
        assert (body["done"], body["registered"], body["duplicates"], body["refused"]) == (LONG_BATCH, LONG_BATCH, 0, 0)
        assert await counts(again.state.runtime) == (LONG_BATCH, LONG_BATCH)


async def test_intake_killed_mid_batch_has_registered_exactly_the_rows_marked_so_and_finishes_after_restart(kafka, topic_prefix, make_database, tmp_path: Path) -> None:
    url = await make_database("intake")
    env = {**stack_env(kafka=kafka, prefix=topic_prefix), "INTAKE_DATABASE_URL": url, "SONGDA_VAR_DIR": str(tmp_path / "var"), "INTAKE_BATCH_POLL_MS": "50"}
    port = free_port()
    first = Stack(env=env, ports={"intake": port}, log_dir=tmp_path / "log", run_dir=tmp_path / "run")
    db = Database(url)
    first.start()
    try:
        first.wait_healthy()
        async with httpx.AsyncClient(base_url=first.url("intake"), timeout=60) as client:
            batch_id = (await client.post("/v1/notice-batches", headers=COURT, **upload(workbooks.notices(LONG_BATCH, seed=3)))).json()["batch_id"]
        await ten_rows_done(db)
        first.kill("intake", signal.SIGKILL)
    finally:
        first.stop()
    try:
        async with db.sessions() as session:
            notices = await session.scalar(select(func.count()).select_from(IntakeNotice))
            marked = await session.scalar(select(func.count()).select_from(IntakeBatchRow).where(IntakeBatchRow.status == "registered"))
    finally:
        await db.dispose()
    # A notice and its row's outcome commit together: killed at any moment, the two agree.
    assert 10 <= notices == marked < LONG_BATCH
    second = Stack(env=env, ports={"intake": port}, log_dir=tmp_path / "log2", run_dir=tmp_path / "run2")
    second.start()
    try:
        second.wait_healthy()
        async with httpx.AsyncClient(base_url=second.url("intake"), timeout=60) as client:

            async def done() -> dict[str, Any] | None:
                body = (await client.get(f"/v1/notice-batches/{batch_id}", headers=COURT)).json()
                return body if body["status"] == "done" else None

            body = await eventually(done, timeout=120, what="the batch finished after the restart")
    finally:
        second.stop()
    assert (body["done"], body["registered"], body["duplicates"], body["refused"]) == (LONG_BATCH, LONG_BATCH, 0, 0)
    assert len({r["notice_id"] for r in body["rows"]}) == LONG_BATCH


async def test_a_workbook_of_the_wrong_shape_is_refused_whole_naming_sheet_and_column(intake) -> None:
    client, runtime = intake
    headers = [c for c in workbooks.task_row(0) if c != "案由"]
    wrong = workbooks.workbook([workbooks.task_row(0)], [workbooks.document_row("WB-0-00000")], task_headers=headers)
    refused = await client.post("/v1/notice-batches", headers=COURT, **upload(wrong))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "workbook", "message": "“送达任务”工作表缺少“案由”列，请使用下载的模板", "sheet": "送达任务", "column": "案由"}]
    not_xlsx = await client.post("/v1/notice-batches", headers=COURT, **upload(b"court,reference\n"))
    assert not_xlsx.status_code == 415
    assert not_xlsx.json()["errors"][0]["field"] == "workbook"
    not_pdf = await client.post("/v1/notice-batches", headers=COURT, **upload(workbooks.notices(1), files={workbooks.FILE: b"GIF89a not a pdf"}))
    assert not_pdf.status_code == 415
    assert not_pdf.json()["errors"][0]["field"] == "files[0]"
    for_another = await client.post("/v1/notice-batches", headers=COURT, data={"court_id": "C110105"}, **upload(workbooks.notices(1)))
    assert for_another.status_code == 403
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IntakeBatchRow)) == 0


async def test_a_document_without_its_file_refuses_its_notice_at_the_file_name_cell(intake) -> None:
    client, _ = intake
    data = workbooks.workbook([workbooks.task_row(0)], [workbooks.document_row("WB-0-00000", file="起诉状.pdf")])
    body = await finished(client, (await client.post("/v1/notice-batches", headers=COURT, **upload(data))).json()["batch_id"])
    assert body["rows"][0]["errors"] == [{"sheet": "文书", "row": 2, "column": "文件名", "field": "documents[0].file", "message": "没有随表格上传名为“起诉状.pdf”的文件"}]


async def test_a_supervisor_names_the_court_and_another_court_sees_no_batch(intake) -> None:
    client, _ = intake
    supervisor = token(Role.supervisor, "S-1")
    unnamed = await client.post("/v1/notice-batches", headers=supervisor, **upload(workbooks.notices(1)))
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "court_id"
    named = await client.post("/v1/notice-batches", headers=supervisor, data={"court_id": "C371002"}, **upload(workbooks.notices(1)))
    assert named.status_code == 202
    body = await finished(client, named.json()["batch_id"])
    assert body["registered"] == 1
    other = await client.get(f"/v1/notice-batches/{body['id']}", headers=token(Role.court, "C110105"))
    missing = await client.get("/v1/notice-batches/no-such-batch", headers=token(Role.court, "C110105"))
    assert (other.status_code, other.json()["title"]) == (missing.status_code, missing.json()["title"]) == (404, "Not found")


async def test_the_template_downloads_and_its_example_registers(intake) -> None:
    client, _ = intake
    template = await client.get("/v1/notice-batches/template.xlsx", headers=COURT)
    assert template.status_code == 200
    assert template.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    body = await finished(
        client, (await client.post("/v1/notice-batches", headers=COURT, **upload(template.content, files={"起诉状副本-1234.pdf": sample_pdf()}))).json()["batch_id"]
    )
    assert [r["status"] for r in body["rows"]] == ["registered"], body
