"""The submit form over a fake of intake: files uploaded first and kept through corrections, the notice intake takes, its refusals beside their fields in Chinese, rows added with htmx or without JavaScript, and who may submit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.intake import Court
from services.console.notice_form import NoticeForm
from tests import consoles
from tests.consoles import Console, hidden, messages, signed_in, texts_of

PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n2 0 obj << /Type /Page >> endobj\n3 0 obj << /Type /Pages >> endobj\n%%EOF"
RECIPIENT = {
    "recipients[0].name": "张三",
    "recipients[0].kind": "person",
    "recipients[0].role": "defendant",
    "recipients[0].id_type": "resident_id",
    "recipients[0].id_number": "371002198503124210",
    "recipients[0].phones": "13800138000， 0631-5200000",
    "recipients[0].emails": "",
    "recipients[0].address": "山东省威海市环翠区新威路17号",
    "recipients[0].postcode": "264200",
}
CASE = {
    "case_number": "（2026）鲁1002民初1234号",
    "cause": "民间借贷纠纷",
    "stage": "first_instance",
    "due_date": "",
    "documents[0].title": "起诉状副本",
    "documents[0].kind": "complaint_copy",
}


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True), Court(id="C371082", name="荣成市人民法院", active=False)]
        yield built


def form(token: str, reference: str, **more: str) -> dict[str, str]:
    return {"csrf_token": token, "court_reference": reference, "step": "submit", **CASE, **RECIPIENT, **more}


def pdf(name: str = "起诉状副本.pdf", data: bytes = PDF) -> dict[str, Any]:
    return {"documents[0].file": (name, data, "application/pdf")}


async def test_the_form_suggests_a_reference_and_a_court_submits_its_notice_with_its_file(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        blank = await browser.get("/notices/new")
        reference = re.findall(r'name="court_reference" type="text" value="([^"]*)"', blank.text)[0]
        done = await browser.post("/notices/new", data=form(token, reference), files=pdf())
    assert blank.status_code == 200 and re.fullmatch(r"C371002-\d{8}-[0-9A-F]{6}", reference) and 'name="court_id"' not in blank.text
    assert 'enctype="multipart/form-data"' in blank.text and 'name="recipients[0].name"' in blank.text and 'name="documents[0].file"' in blank.text
    [sent] = console.intake.submitted
    [(sha256, (owner, stored, _))] = console.intake.documents.items()
    assert done.status_code == 303 and done.headers["location"] == f"/notices/{next(iter(console.intake.notices))}?submitted=true"
    assert (owner, stored) == ("C371002", PDF)
    assert sent == {
        "court_id": "C371002",
        "court_reference": reference,
        "case_number": "（2026）鲁1002民初1234号",
        "cause": "民间借贷纠纷",
        "stage": "first_instance",
        "documents": [{"title": "起诉状副本", "kind": "complaint_copy", "sha256": sha256, "pages": 2}],
        "recipients": [
            {
                "name": "张三",
                "kind": "person",
                "role": "defendant",
                "id_type": "resident_id",
                "id_number": "371002198503124210",
                "phones": ["13800138000", "0631-5200000"],
                "emails": [],
                "addresses": [{"text": "山东省威海市环翠区新威路17号", "postcode": "264200"}],
                "whereabouts_unknown": False,
            }
        ],
    }


async def test_intakes_refusal_is_said_in_chinese_beside_each_field_and_the_file_is_kept(console: Console) -> None:
    console.intake.refusal = ServiceRefused(
        422,
        {
            "errors": [
                {"field": "recipients[0].id_number", "message": "resident ID check digit does not match; expected 0"},
                {"field": "recipients[0].phones[1]", "message": "not a phone number"},
                {"field": "recipients[0].addresses[0].postcode", "message": "String should match pattern '^\\d{6}$'"},
                {"field": "case_number", "message": "case number must look like （2024）鲁1002民初1234号: (year) court code, case type, sequence, 号"},
                {"field": "cause", "message": "Field required"},
                {"field": "recipients[0].lawyer.email", "message": "a message no table knows"},
            ]
        },
    )
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        refused = await browser.post("/notices/new", data=form(token, "C371002-20261123-ABCDEF", cause=""), files=pdf())
        sha256 = hidden(refused.text, "documents[0].sha256")
        again = form(token, "C371002-20261123-ABCDEF") | {"documents[0].sha256": sha256, "documents[0].pages": "2", "documents[0].filename": "起诉状副本.pdf"}
        done = await browser.post("/notices/new", data=again)
    assert refused.status_code == 422 and "请修改以下问题" in refused.text
    assert messages(refused.text) == [
        "案号格式不正确，应如（2026）鲁1002民初1234号",
        "请填写案由",
        "第1位受送达人的证件号码有误：请核对居民身份证号码（地区码、出生日期或校验位不符）",
        "第1位受送达人的电话不是有效的电话号码，多个号码请用逗号或空格分开",
        "第1位受送达人的邮政编码格式不正确",
    ]
    summary = re.findall(r'<li><a href="#([^"]*)">([^<]+)</a></li>', refused.text)
    assert [anchor for anchor, _ in summary] == ["recipients[0].id_number", "recipients[0].phones", "recipients[0].postcode", "case_number", "cause", "main"]
    assert summary[-1][1] == "第1位受送达人的lawyer：a message no table knows", "a message without Chinese words: the field's name and intake's message"
    assert 'id="recipients[0].id_number-error"' in refused.text and 'aria-describedby="recipients[0].id_number-hint recipients[0].id_number-error"' in refused.text
    assert 'value="张三"' in refused.text and "已上传：起诉状副本.pdf（2页）" in texts_of(refused.text)
    assert done.status_code == 303 and len(console.intake.submitted) == 2 and len(console.intake.documents) == 1
    assert console.intake.submitted[1]["documents"] == [{"title": "起诉状副本", "kind": "complaint_copy", "sha256": sha256, "pages": 2}]


async def test_the_console_asks_for_a_file_and_a_recipient_before_intake_is_asked(console: Console) -> None:
    empty = {f"recipients[0].{name}": "" for name in ("name", "role", "id_number", "phones", "emails", "address", "postcode")}
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form(token, "R-1") | empty)
    assert page.status_code == 422 and messages(page.text) == ["第1份文书：请选择文件（PDF 或 OFD）", "请至少填写一位受送达人"]
    assert console.intake.submitted == []


async def test_a_file_that_is_not_a_pdf_or_ofd_is_refused_beside_it(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form(token, "R-1"), files=pdf("scan.docx", b"PK\x03\x04 a word file"))
    assert page.status_code == 422 and messages(page.text) == ["第1份文书：只能上传 PDF 或 OFD 格式的文书"] and console.intake.submitted == []


async def test_a_reference_used_for_another_notice_is_said_beside_it(console: Console) -> None:
    console.intake.refusal = ServiceRefused(409, {"title": "Conflict", "detail": "court_reference: another notice"})
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form(token, "R-1"), files=pdf())
    assert page.status_code == 409 and messages(page.text) == ["此编号已用于本院另一份内容不同的通知，请换一个编号"]


async def test_without_javascript_a_row_is_added_by_posting_the_form_back_with_every_answer(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form(token, "R-1") | {"step": "add_recipient"}, files=pdf())
        more = await browser.post("/notices/new", data=form(token, "R-1") | {"step": "add_document"})
    assert page.status_code == 200 and 'name="recipients[1].name"' in page.text and 'name="recipients[2].name"' not in page.text
    assert 'value="张三"' in page.text and hidden(page.text, "documents[0].sha256") in console.intake.documents and console.intake.submitted == []
    assert 'name="documents[1].title"' in more.text and 'hx-get="/notices/new/documents/2"' in more.text


async def test_a_file_in_a_row_of_its_own_is_uploaded_into_that_row(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form(token, "R-1") | {"step": "add_document"}, files={"documents[2].file": ("传票.pdf", PDF, "application/pdf")})
    assert page.status_code == 200 and hidden(page.text, "documents[2].sha256") in console.intake.documents and 'value="传票"' in page.text


async def test_htmx_fetches_an_empty_row_with_the_button_for_the_next(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        row = await browser.get("/notices/new/recipients/1", headers={"HX-Request": "true"})
        beyond = await browser.get("/notices/new/recipients/50")
    assert row.status_code == 200 and 'id="recipients-1"' in row.text and "第2位受送达人" in row.text
    assert 'hx-swap-oob="true"' in row.text and 'hx-get="/notices/new/recipients/2"' in row.text and "<html" not in row.text
    assert beyond.status_code == 404


async def test_a_supervisor_chooses_an_active_court_and_others_may_not_submit(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        blank = await browser.get("/notices/new")
        unchosen = await browser.post("/notices/new", data=form(token, "R-9"), files=pdf())
        done = await browser.post("/notices/new", data=form(token, "R-9") | {"court_id": "C371002"}, files=pdf())
    options = re.findall(r'<option value="([^"]*)"', blank.text[blank.text.index('id="court_id"') :].split("</select>")[0])
    assert options == ["", "C371002"], "inactive courts are not offered"
    assert unchosen.status_code == 422 and messages(unchosen.text) == ["请先选择法院，文书将为该法院上传"]
    assert console.intake.documents[next(iter(console.intake.documents))][0] == "C371002", "uploaded for the court chosen"
    assert done.status_code == 303 and console.intake.submitted[0]["court_id"] == "C371002"
    answers = {}
    for username in ("reader", "agent-1"):
        async with console.browser() as browser:
            token = await signed_in(browser, username)
            answers[username] = ((await browser.get("/notices/new")).status_code, (await browser.post("/notices/new", data=form(token, "R-2"), files=pdf())).status_code)
    assert answers == {"reader": (403, 403), "agent-1": (403, 403)} and len(console.intake.documents) == 1


async def test_a_post_without_the_csrf_token_uploads_and_submits_nothing(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.post("/notices/new", data=form("forged", "R-1"), files=pdf())
    assert page.status_code == 403 and console.intake.documents == {} and console.intake.submitted == []


def test_intakes_paths_name_the_rows_as_the_form_shows_them_when_an_empty_row_was_left_out() -> None:
    shown = NoticeForm(
        values={},
        documents=[{"title": "起诉状副本", "sha256": "a" * 64}],
        recipients=[{"kind": "person"}, {"name": "李四"}],
    )
    assert [
        shown.place(path) for path in ("recipients[0].emails[2]", "recipients[0].addresses[0].text", "documents[0].sha256", "court_name", "recipients", "earlier_case_numbers[0]")
    ] == [
        ("recipients[1].emails", "第2位受送达人的电子邮箱"),
        ("recipients[1].address", "第2位受送达人的送达地址"),
        ("documents[0].file", "第1份文书的文件"),
        ("court_id", "法院"),
        ("", "受送达人"),
        ("", "earlier_case_numbers[0]"),
    ]
    assert shown.body()["recipients"] == [{"name": "李四", "phones": [], "emails": [], "whereabouts_unknown": False}]
