"""CSRF: the sign-in form and signing out carry their token, and a request without it is refused in Chinese with nothing done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.console.csrf import LOGIN_COOKIE, LoginForms, same
from tests import consoles
from tests.consoles import PASSWORD, Console, hidden, signed_in, texts_of


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        await built.add("agent-1")
        yield built


def refused_in_chinese(answer_text: str) -> bool:
    return "页面已过期或请求来源无法验证，操作未执行" in texts_of(answer_text)


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
