"""A court's workbook of notices: the template's example reads back as a valid notice, cells become request fields, errors go back to their cells, and batches register each notice once (SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlmodel import func, select

from services.intake import batches, courts, refusals, registration, workbook, workers
from services.intake.config import DEMO_COURTS
from services.intake.models import TABLES, IntakeBatch, IntakeDocument, IntakeNotice
from services.intake.requests import NoticeIn
from shared.plumbing.auth import Principal, Role
from shared.plumbing.db import Database, create_tables
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import PLUMBING_TABLES, Deps
from tests import workbooks
from tests.support import eventually

COURT = Principal(sub="C371002", role=Role.court)
PDF = batches.StoredFile(sha256="a" * 64, pages=2)


def read(data: bytes) -> list[workbook.SheetNotice]:
    return workbook.read(data, max_rows=100)


def test_the_templates_example_reads_back_as_a_notice_the_api_accepts() -> None:
    [notice] = read(workbook.template())
    assert (notice.court_reference, notice.sheet, notice.row, notice.errors) == ("HC-2026-000001", "送达任务", 2, [])
    assert notice.files == ["起诉状副本-1234.pdf"]
    payload = {**notice.payload, "court_id": "C371002", "documents": [{**notice.payload["documents"][0], "sha256": PDF.sha256, "pages": 2}]}
    body = NoticeIn.model_validate(payload)
    assert (body.case_number, body.stage, body.cause) == ("（2026）鲁1002民初1234号", "first_instance", "民间借贷纠纷")
    recipient = body.recipients[0]
    assert (recipient.name, recipient.kind, recipient.role, recipient.id_type) == ("张三", "person", "defendant", "resident_id")
    assert [p.e164 for p in recipient.phones] == ["+8613800138000"]
    assert (recipient.addresses[0].text, recipient.addresses[0].postcode) == ("山东省威海市环翠区新威路17号", "264200")
    assert body.documents[0].kind == "complaint_copy"


def test_the_template_explains_every_column_and_lists_allowed_values() -> None:
    book = load_workbook(io.BytesIO(workbook.template()))
    assert book.sheetnames == ["送达任务", "文书", "说明"]
    explained = {(row[0], row[1]) for row in book["说明"].iter_rows(min_row=2, values_only=True) if row[1]}
    assert explained == {(sheet, c.header) for sheet, columns in workbook.SHEETS.items() for c in columns}
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in book["送达任务"].data_validations.dataValidation}
    assert lists["D2"] == '"一审,二审,再审,执行"'
    assert lists["G2"] == '"自然人,法人或其他组织"'


def test_rows_with_one_reference_are_one_notice_and_its_case_columns_come_from_the_first_row() -> None:
    first = workbooks.task_row(0, reference="R-1")
    second = workbooks.task_row(1, reference="R-1", 案号=None, 案由=None, 审理程序=None, 手机="13900000001；0631-5221234", 诉讼地位="原告", 类型="法人或其他组织")
    [notice] = read(
        workbooks.workbook([first, second], [workbooks.document_row("R-1"), workbooks.document_row("R-1", title="起诉状副本", kind="complaint_copy", file="起诉状.pdf")])
    )
    assert notice.errors == []
    assert notice.payload["case_number"] == first["案号"]
    assert [r["name"] for r in notice.payload["recipients"]] == ["当事人0", "当事人1"]
    assert notice.payload["recipients"][1]["phones"] == ["13900000001", "0631-5221234"]
    assert (notice.payload["recipients"][1]["role"], notice.payload["recipients"][1]["kind"]) == ("plaintiff", "organisation")
    assert [d["kind"] for d in notice.payload["documents"]] == ["summons", "complaint_copy"]
    assert notice.files == ["传票.pdf", "起诉状.pdf"]


def test_a_later_row_contradicting_the_first_is_refused_at_its_cell() -> None:
    first = workbooks.task_row(0, reference="R-1")
    rows = [first, workbooks.task_row(1, reference="R-1", 案号=first["案号"], 案由="买卖合同纠纷")]
    [notice] = read(workbooks.workbook(rows, [workbooks.document_row("R-1")]))
    assert notice.errors == [workbook.CellError("送达任务", 3, "案由", "cause", "与同一法院编号的第 2 行不一致")]


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"审理程序": "一审程序"}, "审理程序", "须为以下之一：一审、二审、再审、执行"),
        ({"截止日期": "下周五"}, "截止日期", "日期格式应为 2026-12-31"),
        ({"下落不明": "不清楚"}, "下落不明", "须为以下之一：是、否"),
        ({"证件号码": 371002198503124210}, "证件号码", "证件号码以数字格式保存，末几位已丢失；请将该列设为文本格式后重新填写"),
    ],
)
def test_a_cell_that_cannot_be_read_is_refused_where_it_is(changes, column, message) -> None:
    [notice] = read(workbooks.workbook([workbooks.task_row(0, **changes)], [workbooks.document_row("WB-0-00000")]))
    assert [(e.sheet, e.row, e.column, e.message) for e in notice.errors] == [("送达任务", 2, column, message)]


def test_cells_excel_keeps_as_numbers_or_dates_read_as_written() -> None:
    row = workbooks.task_row(0, 手机=13800138000, 邮编=64200, 截止日期=datetime(2026, 12, 31))
    [notice] = read(workbooks.workbook([row], [workbooks.document_row("WB-0-00000")]))
    assert notice.payload["recipients"][0]["phones"] == ["13800138000"]
    assert notice.payload["recipients"][0]["addresses"][0]["postcode"] == "064200"
    assert notice.payload["due_date"] == date(2026, 12, 31).isoformat()


def test_a_document_of_a_reference_with_no_recipient_and_a_notice_without_documents_are_refused() -> None:
    notices = read(workbooks.workbook([workbooks.task_row(0, reference="R-1")], [workbooks.document_row("R-2")]))
    assert [(n.court_reference, [(e.sheet, e.row, e.column) for e in n.errors]) for n in notices] == [
        ("R-1", [("送达任务", 2, "法院编号")]),
        ("R-2", [("文书", 2, "法院编号")]),
    ]


def test_a_missing_sheet_or_column_and_bytes_that_are_no_workbook_are_refused_whole() -> None:
    headers = [c.header for c in workbook.TASK_COLUMNS if c.header != "受送达人"] + ["备注"]
    with pytest.raises(workbook.WrongShape) as unknown:
        read(workbooks.workbook([], [], task_headers=headers))
    assert (unknown.value.sheet, unknown.value.column) == ("送达任务", "备注")
    with pytest.raises(workbook.WrongShape) as missing:
        read(workbooks.workbook([], [], task_headers=headers[:-1]))
    assert (missing.value.sheet, missing.value.column) == ("送达任务", "受送达人")
    with pytest.raises(workbook.NotAWorkbook):
        read(b"%PDF-1.7 not a workbook")
    with pytest.raises(workbook.TooManyRows):
        workbook.read(workbooks.notices(3), max_rows=2)


def test_the_request_models_errors_go_back_to_their_cells_in_chinese() -> None:
    rows = [workbooks.task_row(0, reference="R-1"), workbooks.task_row(1, reference="R-1", 手机="12345", 证件号码="371002198503124211", 受送达人=None)]
    [notice] = read(workbooks.workbook(rows, [workbooks.document_row("R-1")]))
    payload = {**notice.payload, "court_id": "C371002", "documents": [{**notice.payload["documents"][0], "sha256": PDF.sha256, "pages": 1}]}
    with pytest.raises(ValidationError) as invalid:
        NoticeIn.model_validate(payload)
    placed = {(e.row, e.column): e.message for e in refusals.of_validation(notice, invalid.value.errors())}
    assert placed == {(3, "受送达人"): "必填", (3, "证件号码"): "居民身份证号码校验位不符，请核对", (3, "手机"): "不是有效的电话号码"}


def test_a_refusal_of_registration_names_the_cell_or_the_reference() -> None:
    [notice] = read(workbooks.notices(1))
    wrong_case = Problem(403, "Forbidden", "x", errors=[{"field": "case_number", "message": "（2026）鲁1002民初10000号 is not a case of court C110105 (its cases carry 京0105)"}])
    assert refusals.of_problem(notice, wrong_case) == [workbook.CellError("送达任务", 2, "案号", "case_number", "不是本院的案号（本院案号代字为 京0105）")]
    assert refusals.of_problem(notice, Problem(409, "Conflict", "x"))[0].column == "法院编号"


# --- Batches on SQLite ------------------------------------------------------------------------------


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[Deps]:
    db = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    deps = Deps(db=db, clock=type("Fixed", (), {"now": staticmethod(lambda: at)})())
    async with db.transaction() as session:
        await courts.seed(session, courts.read_seed(DEMO_COURTS), now=at)
        # The court uploaded the workbook's one file, as POST /v1/notice-batches stores it.
        session.add(IntakeDocument(sha256=PDF.sha256, court_id="C371002", filename=workbooks.FILE, size=1000, pages=PDF.pages, content_type="application/pdf", uploaded_at=at))
    yield deps
    await db.dispose()


async def register_all(deps: Deps) -> int:
    """Registers every waiting row; returns how many rows the rounds took."""
    taken = 0
    while taken_now := await batches.register_next(deps):
        taken += taken_now
    return taken


async def test_a_batch_registers_each_notice_once_and_a_second_batch_finds_them_duplicates(deps: Deps) -> None:
    notices = read(workbooks.notices(3, changes={1: {"证件号码": "371002198503124211"}}))
    first = await batches.intake_batch(deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=notices, files={workbooks.FILE: PDF})
    assert await register_all(deps) == 3
    second = await batches.intake_batch(deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=notices, files={workbooks.FILE: PDF})
    assert await register_all(deps) == 3
    async with deps.db.sessions() as session:
        done = [await session.get(IntakeBatch, b.id) for b in (first, second)]
        assert await session.scalar(select(func.count()).select_from(IntakeNotice)) == 2
    assert [(b.status, b.done, b.registered, b.duplicates, b.refused) for b in done if b] == [("done", 3, 2, 0, 1), ("done", 3, 0, 2, 1)]
    _, rows = await batches.read_batch(deps, principal=COURT, batch_id=second.id)
    assert [r.status for r in rows] == ["duplicate", "refused", "duplicate"]
    assert rows[1].errors == [{"sheet": "送达任务", "row": 3, "column": "证件号码", "field": "recipients[0].id_number", "message": "居民身份证号码校验位不符，请核对"}]


async def test_a_court_reads_only_its_own_batches(deps: Deps) -> None:
    batch = await batches.intake_batch(deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=read(workbooks.notices(1)), files={})
    with pytest.raises(Problem) as other:
        await batches.read_batch(deps, principal=Principal(sub="C110105", role=Role.court), batch_id=batch.id)
    assert other.value.status == 404
    read_back, _ = await batches.read_batch(deps, principal=Principal(sub="AU-1", role=Role.auditor), batch_id=batch.id)
    assert read_back.id == batch.id


def test_a_row_without_its_reference_is_refused_alone() -> None:
    notices = read(workbooks.workbook([workbooks.task_row(0, 法院编号=None)], [workbooks.document_row("WB-0-00000"), {"文书名称": "传票"}]))
    assert [[(e.sheet, e.row, e.column, e.message) for e in n.errors] for n in notices] == [
        [("送达任务", 2, "法院编号", "必填")],
        [("文书", 2, "法院编号", "“送达任务”表中没有法院编号为 WB-0-00000 的受送达人")],
        [("文书", 3, "法院编号", "必填")],
    ]


async def test_a_file_the_court_never_uploaded_refuses_its_notice_at_the_file_name(deps: Deps) -> None:
    stranger = batches.StoredFile(sha256="b" * 64, pages=1)
    batch = await batches.intake_batch(deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=read(workbooks.notices(1)), files={workbooks.FILE: stranger})
    await register_all(deps)
    _, [row] = await batches.read_batch(deps, principal=COURT, batch_id=batch.id)
    assert (row.status, row.errors) == ("refused", [{"sheet": "文书", "row": 2, "column": "文件名", "field": "documents[0].sha256", "message": "未找到该文件，请随表格一并上传"}])


def test_a_workbook_that_unpacks_to_far_more_than_its_rows_is_refused_before_it_is_parsed() -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/sharedStrings.xml", "w") as member:
            for _ in range(workbook.MAX_UNPACKED_BYTES // 2**20 + 1):
                member.write(bytes(2**20))
    with pytest.raises(workbook.TooManyRows):
        read(packed.getvalue())


async def test_a_notice_the_handler_fails_on_is_refused_and_the_batch_goes_on(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    original = registration.register

    async def failing_on_the_first(session, *, principal, bodies, now):
        if any(body.court_reference.endswith("00000") for body in bodies):
            raise RuntimeError("a bug")
        return await original(session, principal=principal, bodies=bodies, now=now)

    monkeypatch.setattr(registration, "register", failing_on_the_first)
    batch = await batches.intake_batch(deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=read(workbooks.notices(2)), files={workbooks.FILE: PDF})
    assert await register_all(deps) == 2
    done, rows = await batches.read_batch(deps, principal=COURT, batch_id=batch.id)
    assert (done.status, [r.status for r in rows]) == ("done", ["refused", "registered"])
    assert rows[0].errors[0]["message"] == "未能登记（系统错误），请联系送达平台管理员"


async def test_a_batch_kept_by_this_process_wakes_the_registrar_without_waiting_for_its_poll(deps: Deps) -> None:
    # An hour's poll: only the wake-up after a batch's commit gets its rows registered within the deadline (the second batch is kept while the registrar sleeps).
    registrar = asyncio.create_task(workers.register_batches(deps, poll_s=3600))
    try:
        for seed in (1, 2):
            batch = await batches.intake_batch(
                deps, principal=COURT, court_id="C371002", filename="a.xlsx", notices=read(workbooks.notices(2, seed=seed)), files={workbooks.FILE: PDF}
            )

            async def done(batch_id: str = batch.id) -> IntakeBatch | None:
                async with deps.db.sessions() as session:
                    kept = await session.get(IntakeBatch, batch_id)
                return kept if kept is not None and kept.status == "done" else None

            finished = await eventually(done, what="the batch registered")
            assert (finished.done, finished.registered) == (2, 2)
    finally:
        registrar.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await registrar
