"""The firm registry's pages over fakes of intake and evidence: the list with validity, courts and agreement, adding a firm with its agreement filed as evidence, changing one, and every refusal in Chinese beside its field."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import respx

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.firms import Firm, FirmsClient
from services.console.adapters.intake import Court
from services.intake.firms import FirmIn, FirmOut
from shared.contracts.values import uscc_check_char
from shared.plumbing.auth import Principal, Role
from tests import consoles
from tests.consoles import Console, messages, signed_in, texts_of

FIRM = "31370000MD012345" + "6" + uscc_check_char("31370000MD0123456")
OLD_FIRM = "31370000MD054321" + "6" + uscc_check_char("31370000MD0543216")
AGREEMENT = b"%PDF-1.7 the signed agreement"
INTAKE = "http://intake.test"
BOSS = Principal(sub="boss", role=Role.supervisor)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True), Court(id="C371003", name="威海市文登区人民法院", active=True)]
        yield built


def firm(uscc: str = FIRM, **changes: object) -> Firm:
    values: dict[str, object] = {
        "uscc": uscc,
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "inbox": True,
        "agreement": {"evidence_id": "ev-agreement-1", "sha256": "a" * 64},
        "court_ids": ["C371002"],
        "valid_from": "2020-01-01",
        "valid_to": "2099-12-31",
    }
    return Firm.model_validate(values | changes)


def answers(**changes: str | list[str]) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "uscc": FIRM,
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "inbox": "yes",
        "court_ids": ["C371002", "C371003"],
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    return values | changes


def agreement(content: bytes = AGREEMENT) -> dict[str, tuple[str, bytes, str]]:
    return {"agreement": ("电子送达协议.pdf", content, "application/pdf")}


async def test_a_supervisor_lists_the_firms_with_validity_courts_and_agreement(console: Console) -> None:
    console.firms.registry = {FIRM: firm(), OLD_FIRM: firm(OLD_FIRM, name="威海旧律所", valid_from="2020-01-01", valid_to="2021-12-31", court_ids=[])}
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/firms")
    text = texts_of(page.text)
    assert page.status_code == 200 and 'href="/firms"' in page.text and "律所登记" in text
    assert "山东某某律师事务所" in text and "2020年1月1日 至 2099年12月31日" in text and "有效" in text and "威海市环翠区人民法院" in text
    assert "威海旧律所" in text and "已过期" in text and "暂无（不适用于任何法院）" in text
    assert 'href="/evidence/ev-agreement-1"' in page.text and f'href="/firms/{FIRM}"' in page.text


async def test_a_supervisor_adds_a_firm_and_its_agreement_is_filed_as_evidence_first(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        form = await browser.get("/firms/new")
        sent = await browser.post("/firms", data={**answers(), "csrf_token": token}, files=agreement())
        listed = await browser.get(sent.headers["location"])
    assert form.status_code == 200 and 'name="agreement"' in form.text and 'value="C371003"' in form.text
    assert (sent.status_code, sent.headers["location"]) == (303, f"/firms?saved={FIRM}#firm-{FIRM}")
    (item, metadata, content), *_ = console.evidence.items.values()
    assert (metadata, content) == ({"notice_id": f"firm:{FIRM}", "kind": "firm_agreement"}, AGREEMENT)
    (caller, uscc, body), *_ = console.firms.written
    assert (caller.role, uscc) == (Role.supervisor, FIRM)
    assert body == {
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "inbox": True,
        "agreement": {"evidence_id": item.id, "sha256": hashlib.sha256(AGREEMENT).hexdigest()},
        "court_ids": ["C371002", "C371003"],
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    assert "已保存律所“山东某某律师事务所”的登记。" in texts_of(listed.text)


async def test_changing_a_firm_keeps_its_agreement_unless_a_new_one_is_uploaded(console: Console) -> None:
    console.firms.registry = {FIRM: firm()}
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        form = await browser.get(f"/firms/{FIRM}")
        kept = await browser.post(f"/firms/{FIRM}", data={**answers(uscc="ignored", valid_to="2030-06-30", inbox=""), "csrf_token": token})
        renewed = await browser.post(f"/firms/{FIRM}", data={**answers(), "csrf_token": token}, files=agreement(b"%PDF-1.7 renewed"))
    assert form.status_code == 200 and 'value="songda@firm.example.cn"' in form.text and 'name="uscc"' not in form.text
    assert kept.status_code == 303 and renewed.status_code == 303
    (_, first_uscc, first), (_, _, second) = console.firms.written
    assert (first_uscc, first["agreement"], first["valid_to"], first["inbox"]) == (FIRM, {"evidence_id": "ev-agreement-1", "sha256": "a" * 64}, "2030-06-30", False)
    assert second["agreement"]["sha256"] == hashlib.sha256(b"%PDF-1.7 renewed").hexdigest()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"uscc": ""}, "uscc", "请填写律所的统一社会信用代码"),
        ({"uscc": FIRM[:-1] + ("0" if FIRM[-1] != "0" else "1")}, "uscc", "请填写 18 位统一社会信用代码，并核对最后一位校验码"),
        ({"name": ""}, "name", "请填写律所名称"),
        ({"email": "songda"}, "email", "请填写律所的电子送达邮箱，例如 songda@lawfirm.cn"),
        ({"court_ids": ["C999999"]}, "court_ids", "请从列表中选择协议覆盖的法院"),
        ({"valid_from": "2026-13-01"}, "valid_from", "请填写有效期起日期，格式如 2026-01-01"),
        ({"valid_to": "2025-12-31"}, "valid_to", "有效期至不能早于有效期起"),
    ],
)
async def test_a_wrong_answer_is_named_in_chinese_and_nothing_is_filed_or_written(console: Console, changes: dict[str, str], field: str, message: str) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        sent = await browser.post("/firms", data={**answers(**changes), "csrf_token": token}, files=agreement())
    assert sent.status_code == 422
    assert messages(sent.text) == [message] and f'href="#{field}"' in sent.text
    assert console.evidence.items == {} and console.firms.written == []


async def test_a_new_firm_needs_its_agreement(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        sent = await browser.post("/firms", data={**answers(), "csrf_token": token}, files={"agreement": ("", b"", "application/octet-stream")})
    assert sent.status_code == 422 and messages(sent.text) == ["请上传签署的电子送达协议（PDF 或扫描件）"]
    assert console.firms.written == []


async def test_the_services_refusals_come_back_beside_the_fields(console: Console) -> None:
    console.firms.refusal = ServiceRefused(422, {"errors": [{"field": "email", "message": "value is not a valid email address"}]})
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        refused = await browser.post("/firms", data={**answers(), "csrf_token": token}, files=agreement())
    assert refused.status_code == 422 and 'href="#email"' in refused.text
    assert messages(refused.text)[0].startswith("电子送达邮箱")
    assert console.firms.written == []


async def test_only_supervisors_keep_the_registry(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        listed = await browser.get("/firms")
        sent = await browser.post("/firms", data={**answers(), "csrf_token": token}, files=agreement())
    assert (listed.status_code, sent.status_code) == (403, 403)
    assert console.evidence.items == {} and console.firms.written == []
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        missing = await browser.get(f"/firms/{FIRM}")
        forged = await browser.post("/firms", data=answers(), files=agreement())
    assert missing.status_code == 404 and "登记簿中没有此律所" in texts_of(missing.text)
    assert forged.status_code == 403 and console.firms.written == []


@respx.mock
async def test_the_client_sends_what_intake_takes_and_reads_intake_s_own_answer() -> None:
    body = {
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "inbox": True,
        "agreement": {"evidence_id": "ev-1", "sha256": "a" * 64},
        "court_ids": ["C371002"],
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    answer = FirmOut.model_validate({**body, "uscc": FIRM, "updated_at": consoles.NOW, "updated_by": "boss"}).model_dump(mode="json")
    put = respx.put(f"{INTAKE}/v1/firms/{FIRM}").mock(return_value=httpx.Response(200, json=answer))
    respx.get(f"{INTAKE}/v1/firms").mock(return_value=httpx.Response(200, json=[answer]))
    async with httpx.AsyncClient() as http:
        client = FirmsClient(consoles.service_api(http, "intake", INTAKE))
        written = await client.put(BOSS, FIRM, body)
        listed = await client.firms(BOSS)
    FirmIn.model_validate_json(put.calls.last.request.content)
    assert consoles.caller_of(put.calls.last.request) == ("supervisor", "boss")
    assert listed == [written] and written.state_on(date(2026, 12, 31)) == "valid" and written.state_on(date(2027, 1, 1)) == "expired"
