"""Notices from a workbook in the console over a fake of intake: the template, the upload passed on (a supervisor picks the court), intake's refusals in Chinese, and the progress page polled until done."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.console.adapters.batches import Batch
from services.console.adapters.calls import ServiceRefused
from services.console.adapters.intake import Court
from shared.plumbing.auth import Role
from tests import consoles
from tests.consoles import Console, messages, signed_in, texts_of

XLSX = b"PK\x03\x04 a workbook"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        await built.add("other-clerk", Role.court, scope="C110105")
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True), Court(id="C000001", name="已撤销法院", active=False)]
        yield built


def upload(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("workbook", ("送达任务.xlsx", XLSX, "application/octet-stream")), *(("files", (name, b"%PDF-1.7", "application/pdf")) for name in names)]


def batch(**changes: object) -> Batch:
    values: dict[str, object] = {
        "id": "b-9",
        "court_id": "C371002",
        "filename": "十一月.xlsx",
        "status": "done",
        "total": 3,
        "done": 3,
        "registered": 1,
        "duplicates": 1,
        "refused": 1,
        "created_at": consoles.NOW,
        "finished_at": consoles.NOW,
        "rows": [
            {"sheet": "送达任务", "row": 2, "court_reference": "R-1", "status": "registered", "notice_id": "n-1", "errors": []},
            {"sheet": "送达任务", "row": 3, "court_reference": "R-2", "status": "duplicate", "notice_id": "n-0", "errors": []},
            {
                "sheet": "送达任务",
                "row": 4,
                "court_reference": "R-3",
                "status": "refused",
                "notice_id": None,
                "errors": [{"sheet": "送达任务", "row": 4, "column": "证件号码", "field": "recipients[0].id_number", "message": "居民身份证号码校验位不符，请核对"}],
            },
        ],
    }
    return Batch.model_validate(values | changes)


async def test_a_court_downloads_the_template_and_uploads_its_workbook_with_the_documents(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        form = await browser.get("/notices/batch")
        template = await browser.get("/notices/batch/template.xlsx")
        sent = await browser.post("/notices/batch", data={"csrf_token": token}, files=upload("传票.pdf", "起诉状.pdf"))
    assert form.status_code == 200 and 'href="/notices/batch/template.xlsx"' in form.text and 'name="court_id"' not in form.text
    assert 'enctype="multipart/form-data"' in form.text and 'name="files" type="file" multiple' in form.text
    assert template.status_code == 200 and template.content == b"PK\x03\x04 template" and "attachment" in template.headers["content-disposition"]
    assert (sent.status_code, sent.headers["location"]) == (303, "/notices/batch/b-1")
    [(caller, workbook, files, court)] = console.batches.uploads
    assert (caller.role, caller.sub, workbook, files, court) == (Role.court, "C371002", "送达任务.xlsx", ["传票.pdf", "起诉状.pdf"], None)


async def test_a_supervisor_picks_one_of_the_active_courts(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        form = await browser.get("/notices/batch")
        unnamed = await browser.post("/notices/batch", data={"csrf_token": token}, files=upload("传票.pdf"))
        named = await browser.post("/notices/batch", data={"csrf_token": token, "court_id": "C371002"}, files=upload("传票.pdf"))
    assert re.findall(r'<option value="(\w*)"', form.text) == ["", "C371002"]
    assert unnamed.status_code == 422 and messages(unnamed.text) == ["请选择送达任务所属的法院"]
    assert named.status_code == 303 and console.batches.uploads[0][3] == "C371002"


async def test_a_form_without_its_workbook_or_token_sends_nothing(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        empty = await browser.post("/notices/batch", data={"csrf_token": token}, files=[("files", ("传票.pdf", b"%PDF", "application/pdf"))])
        forged = await browser.post("/notices/batch", files=upload())
    assert empty.status_code == 422 and messages(empty.text) == ["请选择要上传的 Excel 工作簿（.xlsx）"]
    assert forged.status_code == 403
    assert console.batches.uploads == []


@pytest.mark.parametrize(
    ("status", "errors", "shown"),
    [
        (422, [{"field": "workbook", "message": "“送达任务”工作表缺少“案由”列，请使用下载的模板"}], "“送达任务”工作表缺少“案由”列，请使用下载的模板"),
        (415, [{"field": "workbook", "message": "not an Excel workbook (.xlsx)"}], "上传的不是 Excel 工作簿（.xlsx）。请下载模板，填写后另存为 .xlsx 再上传"),
        (
            415,
            [{"field": "files[1]", "message": "起诉状.pdf: only PDF and OFD documents are accepted"}],
            "文件“起诉状.pdf”不是可以打开的 PDF 或 OFD 文件，或与另一文件同名。请检查后重新上传",
        ),
        (413, [{"field": "workbook", "message": "larger than 10,485,760 bytes"}], "上传的文件过大，请将工作簿分成几份，每份连同文书分别上传"),
    ],
)
async def test_intakes_refusal_of_the_whole_upload_is_shown_in_chinese_beside_the_form(console: Console, status, errors, shown) -> None:
    console.batches.refusal = ServiceRefused(status, {"title": "Invalid", "detail": "x", "errors": errors})
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        answer = await browser.post("/notices/batch", data={"csrf_token": token}, files=upload("起诉状.pdf"))
    assert answer.status_code == 422
    assert messages(answer.text) == [shown]


async def test_an_upload_larger_than_the_console_takes_is_refused_before_it_is_read(console: Console) -> None:
    object.__setattr__(console.deps, "max_batch_bytes", 100)
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        answer = await browser.post("/notices/batch", data={"csrf_token": token}, files=upload("传票.pdf"))
    assert answer.status_code == 413 and "文件过大" in answer.text
    assert console.batches.uploads == []


async def test_the_batch_page_polls_its_progress_until_done_and_then_lists_each_refused_cell(console: Console) -> None:
    console.batches.batches["b-9"] = batch(status="registering", done=1, registered=1, duplicates=0, refused=0, finished_at=None, rows=[])
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        running = await browser.get("/notices/batch/b-9")
        console.batches.batches["b-9"] = batch()
        fragment = await browser.get("/notices/batch/b-9", headers={"HX-Request": "true"})
        done = await browser.get("/notices/batch/b-9")
    assert running.status_code == 200
    assert '<progress id="batch-bar" class="progress" value="1" max="3">' in running.text
    assert 'hx-get="/notices/batch/b-9" hx-trigger="every 2s"' in running.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in running.text
    assert fragment.text.lstrip().startswith('<section id="batch-progress"') and "<html" not in fragment.text
    assert "hx-trigger" not in fragment.text and "refresh" not in done.text
    assert "登记1 重复1 退回1" in texts_of(done.text) and "法院 威海市环翠区人民法院" in texts_of(done.text)
    rows = [texts_of(row).split() for row in re.findall(r'<tr class="row--refused">(.*?)</tr>', done.text, flags=re.S)]
    assert rows == [["送达任务", "4", "证件号码", "居民身份证号码校验位不符，请核对"]]


async def test_another_courts_batch_and_other_roles_are_refused(console: Console) -> None:
    console.batches.batches["b-9"] = batch()
    async with console.browser() as browser:
        await signed_in(browser, "other-clerk")
        other = await browser.get("/notices/batch/b-9")
    assert other.status_code == 404
    for username in ("reader", "agent-1"):
        async with console.browser() as browser:
            await signed_in(browser, username)
            assert (await browser.get("/notices/batch")).status_code == 403
            assert (await browser.get("/notices/batch/b-9")).status_code == 403
