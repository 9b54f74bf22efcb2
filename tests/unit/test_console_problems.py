"""The services' refusals in Chinese: each 422 error beside its field with an error summary, and Chinese pages for 403, 404, 5xx and a service that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.console.adapters.calls import ServiceRefused
from services.console.texts import FieldError, refusal_errors
from shared.plumbing.auth import Role
from tests import consoles
from tests.consoles import Console, hidden, signed_in, texts_of


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        built.delivery.add("agent-1", consoles.task("t-1"))
        built.delivery.add("agent-2", consoles.task("t-2"))
        await built.add("agent-1")
        yield built


@pytest.mark.parametrize(
    ("errors", "outcome", "shown"),
    [
        (
            [{"field": "witness", "message": "a refusal needs a witness (name and organisation) or photo/video evidence_ids (CPL 89)"}],
            "refused",
            [FieldError("witness_name", "请填写见证人的姓名和单位，或上传留置文书的现场照片（民事诉讼法第八十九条）")],
        ),
        (
            [{"field": "signer", "message": "a service needs the signer's name and role (CPL 88)"}],
            "served",
            [FieldError("signer_name", "请填写签收人姓名并选择其身份（民事诉讼法第八十八条）")],
        ),
        (
            [{"field": "evidence_ids", "message": "a posting needs the photo of the posted notice (Interp. 138)"}],
            "posted",
            [FieldError("evidence", "请上传张贴现场的照片（民诉法解释第一百三十八条）")],
        ),
        ([{"field": "new_address.postcode", "message": "String should match pattern '^\\\\d{6}$'"}], "moved", [FieldError("new_address_postcode", "邮政编码格式不正确")]),
        ([{"field": "signer.name", "message": "Field required"}], "served", [FieldError("signer_name", "请填写签收人姓名")]),
        ([{"field": "note", "message": "String should have at most 500 characters"}], "served", [FieldError("note", "备注过长")]),
        ([{"field": "signer.role", "message": "Input should be 'recipient', 'family_member' or …"}], "served", [FieldError("signer_role", "请从列表中选择签收人身份")]),
        ([{"field": "", "message": "Task t-1 is reported."}], "served", [FieldError("", "此项填写有误，请核对后重新提交")]),
        ([{"field": "signer", "message": "x"}, {"field": "signer", "message": "x"}], "served", [FieldError("signer_name", "请填写签收人姓名并选择其身份（民事诉讼法第八十八条）")]),
    ],
)
def test_a_services_422_errors_are_chinese_messages_beside_the_forms_fields(errors: list[dict[str, str]], outcome: str, shown: list[FieldError]) -> None:
    assert refusal_errors(errors, outcome=outcome) == shown
    assert all(not any("a" <= c <= "z" for c in e.message) for e in shown), "no English reaches the page"


async def test_delivery_refusing_the_outcome_shows_the_form_again_with_the_summary_and_the_message_beside_the_field(console: Console) -> None:
    console.delivery.refusal = ServiceRefused(
        422, {"errors": [{"field": "witness", "message": "a refusal needs a witness"}, {"field": "at", "message": "Input should have timezone info"}]}
    )
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        form = await browser.get("/tasks/t-1/outcome/refused")
        fields = {
            "csrf_token": token,
            "idempotency_key": hidden(form.text, "idempotency_key"),
            "witness_name": "李四",
            "witness_organisation": "新威路社区居委会",
            "step": "submit",
        }
        answer = await browser.post("/tasks/t-1/outcome/refused", data=fields)
    assert answer.status_code == 422
    text = texts_of(answer.text)
    assert "请修改以下问题" in text and 'href="#witness_name"' in answer.text and 'href="#at"' in answer.text
    assert consoles.messages(answer.text) == ["请填写见证人的姓名和单位，或上传留置文书的现场照片（民事诉讼法第八十九条）", "时间格式不正确"]
    assert hidden(answer.text, "idempotency_key") == fields["idempotency_key"], "the retry keeps the form's key"
    assert 'value="李四"' in answer.text and console.delivery.reports == {}


async def test_another_agents_task_is_the_chinese_404_page(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        for path in ("/tasks/t-2", "/tasks/t-2/outcome/refused", "/tasks/no-such-task", "/tasks/t-2/print.pdf", "/no-such-page"):
            answer = await browser.get(path)
            assert answer.status_code == 404 and "找不到页面" in answer.text and "不在您的任务中" in answer.text, path
            assert answer.headers["content-type"].startswith("text/html")


async def test_a_role_the_page_is_not_for_gets_the_chinese_403_page(console: Console) -> None:
    await console.add("lawyer-1", Role.lawyer, "31371000MD0543210E")
    async with console.browser() as browser:
        await signed_in(browser, "lawyer-1")
        for path in ("/today", "/tasks/t-1"):
            answer = await browser.get(path)
            assert answer.status_code == 403 and "无权访问" in answer.text, path


async def test_a_service_that_is_down_is_the_chinese_503_page_and_an_htmx_box(console: Console) -> None:
    console.delivery.down = True
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        page = await browser.get("/today")
        fragment = await browser.get("/today", headers={"HX-Request": "true"})
    assert page.status_code == 503 and "送达服务暂时不可用，请稍后重试" in texts_of(page.text) and "<main" in page.text
    assert fragment.status_code == 503 and fragment.text.lstrip().startswith('<div class="error-box"') and "送达服务暂时不可用，请稍后重试" in fragment.text


async def test_an_unexpected_failure_is_the_chinese_500_page(console: Console) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    object.__setattr__(console.delivery, "tasks", broken)
    # The server sees the exception after the page went out (uvicorn logs it); the browser gets the page.
    async with console.browser(raise_app_exceptions=False) as browser:
        await signed_in(browser, "agent-1")
        answer = await browser.get("/today")
    assert answer.status_code == 500 and "系统出错" in answer.text and "a bug" not in answer.text


async def test_the_api_paths_keep_problem_json(console: Console) -> None:
    async with console.browser() as browser:
        answer = await browser.get("/v1/audit-log")
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
