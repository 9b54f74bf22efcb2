"""CSRF: every form and htmx request carries its session's token, and a request without it (or with another) is refused in Chinese with nothing done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.console.csrf import LOGIN_COOKIE, LoginForms, same
from tests import consoles
from tests.consoles import PASSWORD, Console, hidden, page_token, signed_in, texts_of


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        built.delivery.add("agent-1", consoles.task("t-1"), phones=["+8613800138000"])
        await built.add("agent-1")
        yield built


def refused_in_chinese(answer_text: str) -> bool:
    return "页面已过期或请求来源无法验证，操作未执行" in texts_of(answer_text)


@pytest.mark.parametrize("token", [None, "", "forged-token-of-the-right-length-0123456789ab"])
async def test_an_outcome_without_the_sessions_token_is_refused_and_nothing_is_recorded(console: Console, token: str | None) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        form = await browser.get("/tasks/t-1/outcome/not_found")
        fields = {"idempotency_key": hidden(form.text, "idempotency_key"), "step": "submit", "note": "无人"} | ({"csrf_token": token} if token is not None else {})
        answer = await browser.post("/tasks/t-1/outcome/not_found", data=fields)
    assert answer.status_code == 403 and refused_in_chinese(answer.text)
    assert console.delivery.reports == {}


async def test_the_same_outcome_with_the_token_is_recorded(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        form = await browser.get("/tasks/t-1/outcome/not_found")
        assert hidden(form.text, "csrf_token") == token
        answer = await browser.post("/tasks/t-1/outcome/not_found", data={"csrf_token": token, "idempotency_key": hidden(form.text, "idempotency_key"), "step": "submit"})
    assert answer.status_code == 200 and "送达结果已记录" in answer.text
    assert [task for task, _ in console.delivery.reports.values()] == ["t-1"]


async def test_another_sessions_token_is_no_token(console: Console) -> None:
    await console.add("agent-2")
    async with console.browser() as other:
        foreign = await signed_in(other, "agent-2")
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        answer = await browser.post("/tasks/t-1/begin", data={"csrf_token": foreign, "reason": "无人应门"})
    assert answer.status_code == 403 and console.delivery.begun == []


async def test_htmx_sends_the_token_as_a_header_and_gets_a_fragment(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        page = await browser.get("/tasks/t-1")
        headers = {"HX-Request": "true", "X-CSRF-Token": page_token(page.text)}
        begun = await browser.post("/tasks/t-1/begin", data={"reason": "无人应门，电话联系"}, headers=headers)
        forged = await browser.post("/tasks/t-1/begin", data={"reason": "再次"}, headers=headers | {"X-CSRF-Token": "x"})
    assert begun.status_code == 200 and begun.text.lstrip().startswith('<section class="panel" id="contact">') and 'href="tel:+8613800138000"' in begun.text
    assert forged.status_code == 403 and forged.text.lstrip().startswith('<div class="error-box"')
    assert console.delivery.begun == [("t-1", "无人应门，电话联系")]


async def test_signing_out_needs_the_token_too(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        assert (await browser.post("/logout")).status_code == 403
        assert (await browser.get("/welcome")).status_code == 200, "still signed in"
    assert await console.audit("console.sign_out") == []


async def test_a_sign_in_without_the_forms_token_is_refused_before_the_password_is_tried(console: Console) -> None:
    async with console.browser() as browser:
        await browser.get("/login")
        for fields in ({}, {"csrf_token": "0" * 64}):
            answer = await browser.post("/login", data={"username": "agent-1", "password": PASSWORD} | fields)
            assert answer.status_code == 403 and refused_in_chinese(answer.text)
    async with console.browser() as cookieless:
        form = await cookieless.get("/login")
        cookieless.cookies.delete(LOGIN_COOKIE)
        answer = await cookieless.post("/login", data={"username": "agent-1", "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token")})
        assert answer.status_code == 403
    assert await console.audit() == [] and (await console.user("agent-1")).failed_attempts == 0


def test_the_sign_in_forms_token_belongs_to_its_nonce_and_secret() -> None:
    forms = LoginForms("a-secret-of-at-least-thirty-two-characters")
    nonce = forms.nonce()
    assert forms.valid(nonce, forms.token(nonce))
    assert not forms.valid(forms.nonce(), forms.token(nonce))
    assert not forms.valid(nonce, LoginForms("another-secret-of-thirty-two-characters").token(nonce))
    assert not forms.valid(None, forms.token(nonce)) and not forms.valid(nonce, None)
    assert same("abc", "abc") and not same("abc", "abd") and not same("", "") and not same(None, "abc")
