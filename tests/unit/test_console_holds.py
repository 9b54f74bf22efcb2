"""Held evidence over fakes of delivery, evidence and intake: the list with each item's flags in Chinese and its photo, and a supervisor's acceptance or order to visit again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.evidence import EvidenceOut
from services.console.adapters.intake import Court
from shared.plumbing.auth import Principal, Role
from tests import consoles
from tests.consoles import Console, messages, signed_in, texts_of

PHOTO = b"\xff\xd8\xff\xe0 a photo"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path) as built:
        built.oversight.hire("agent-1", "环翠组一")
        built.oversight.hold(consoles.hold("r-1"))
        built.oversight.hold(consoles.hold("r-2", recipient_name="赵六", outcome="posted", agent_id=None, flags={"ev-3": ["edited_by_software"]}, reported_at=consoles.NOW))
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True)]
        built.evidence.items["k-1"] = (EvidenceOut(id="ev-1", kind="photo", scene="refusal", content_type="image/jpeg", flags=["far_from_address"]), {}, PHOTO)
        built.evidence.items["k-2"] = (EvidenceOut(id="ev-2", kind="signed_receipt", content_type="application/pdf"), {}, b"%PDF-1.7 receipt")
        yield built


async def test_the_list_shows_each_held_service_its_flags_in_chinese_and_its_photos(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/holds")
    text = texts_of(page.text)
    assert page.status_code == 200 and text.index("赵六") < text.index("王五"), "the oldest report first"
    held = text[text.index("王五") - 40 :]
    for shown in ("威海市环翠区人民法院", "（2026）鲁1002民初2345号 · 王五", "报告结果拒绝签收（留置送达）", "送达员环翠组一", "报告时间2026年11月23日 10:00"):
        assert shown in held, shown
    assert "拍摄地点距地址较远：请在门口重新拍摄" in text and "照片没有位置信息" in text and "核验通过" in text
    assert "照片经过编辑软件处理" in text and "已张贴公告" in text and "送达员—" in text
    assert re.findall(r'<a class="exhibit__link" href="(/evidence/[^"]+)"><img class="exhibit__photo" src="(/evidence/[^"]+)"', page.text) == [
        ("/evidence/ev-3", "/evidence/ev-3"),
        ("/evidence/ev-1", "/evidence/ev-1"),
        ("/evidence/ev-2", "/evidence/ev-2"),
    ]
    assert page.text.count('action="/holds/r-1/accept"') == page.text.count('action="/holds/r-1/revisit"') == 1


async def test_an_auditor_reads_the_list_and_the_photos_without_the_forms(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "reader")
        page = await browser.get("/holds")
        photo = await browser.get("/evidence/ev-1")
        accepted = await browser.post("/holds/r-1/accept", data={"csrf_token": token, "reason": "已核实"})
    assert page.status_code == 200 and "王五" in page.text and "/holds/r-1/accept" not in page.text and photo.content == PHOTO
    assert accepted.status_code == 403 and console.oversight.decisions == []


@pytest.mark.parametrize(("decision", "said"), [("accept", "已认可证据：该送达按原报告的结果生效。"), ("revisit", "已安排重新上门：本次送达不予认可，已派出新的任务。")])
async def test_a_decision_is_sent_with_its_reason_and_the_list_says_it_is_done(console: Console, decision: str, said: str) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        done = await browser.post(f"/holds/r-1/{decision}", data={"csrf_token": token, "reason": " 已电话核实，\n照片确为现场拍摄 "})
        page = await browser.get(done.headers["location"])
    assert done.status_code == 303 and done.headers["location"] == f"/holds?decided={decision}"
    assert console.oversight.decisions == [("r-1", decision, "已电话核实， 照片确为现场拍摄")]
    assert said in texts_of(page.text) and "王五" not in texts_of(page.text)


@pytest.mark.parametrize(("reason", "shown"), [("", "请填写事由（至少2个字）"), ("好", "请填写事由（至少2个字）"), ("长" * 501, "事由最多500个字")])
async def test_a_decision_without_a_fitting_reason_is_not_sent(console: Console, reason: str, shown: str) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        page = await browser.post("/holds/r-1/revisit", data={"csrf_token": token, "reason": reason})
    assert page.status_code == 422 and messages(page.text) == [shown] and 'id="revisit-r-1-error"' in page.text
    assert 'href="#revisit-r-1"' in page.text and console.oversight.decisions == []


async def test_delivery_refusing_a_decision_is_said_in_chinese(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        console.oversight.refusal = ServiceRefused(422, {"errors": [{"field": "reason", "message": "String should match pattern '\\S'"}]})
        refused = await browser.post("/holds/r-1/accept", data={"csrf_token": token, "reason": "已核实"})
        console.oversight.refusal = ServiceRefused(409, {"title": "Not held", "detail": "r-1 is served."})
        gone = await browser.post("/holds/r-1/accept", data={"csrf_token": token, "reason": "已核实"})
    assert refused.status_code == 422 and messages(refused.text) == ["事由格式不正确"] and 'id="accept-r-1-error"' in refused.text
    assert gone.status_code == 409 and "该送达已不在待审核之列（可能已由其他主管处理），未作改动。" in texts_of(gone.text)
    assert console.oversight.decisions == []


@pytest.mark.parametrize("decision", ["accept", "revisit"])
async def test_a_decision_needs_the_sessions_csrf_token(console: Console, decision: str) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        missing = await browser.post(f"/holds/r-1/{decision}", data={"reason": "已核实"})
        wrong = await browser.post(f"/holds/r-1/{decision}", data={"reason": "已核实", "csrf_token": "forged"})
    assert missing.status_code == wrong.status_code == 403 and "页面已失效" in texts_of(wrong.text) and console.oversight.decisions == []


async def test_a_photo_is_shown_from_evidence_and_anything_else_handed_over_as_a_file(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        photo, pdf, missing = [await browser.get(f"/evidence/{evidence_id}") for evidence_id in ("ev-1", "ev-2", "ev-9")]
    assert photo.status_code == 200 and photo.content == PHOTO and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["content-disposition"] == 'inline; filename="evidence-ev-1.jpg"' and photo.headers["x-content-type-options"] == "nosniff"
    assert photo.headers["cache-control"] == "private, no-store" and "sandbox" in photo.headers["content-security-policy"]
    assert pdf.headers["content-disposition"] == 'attachment; filename="evidence-ev-2.pdf"' and pdf.content == b"%PDF-1.7 receipt"
    assert missing.status_code == 404 and "找不到页面" in texts_of(missing.text)


async def test_the_items_are_fetched_with_the_persons_own_token(console: Console) -> None:
    seen: list[Principal] = []
    content = console.evidence.content

    async def spying(caller: Principal, evidence_id: str) -> object:
        seen.append(caller)
        return await content(caller, evidence_id)

    object.__setattr__(console.evidence, "content", spying)
    async with console.browser() as browser:
        await signed_in(browser, "reader")
        await browser.get("/evidence/ev-1")
    assert seen == [Principal(sub="reader", role=Role.auditor, user="reader")]


async def test_the_list_and_the_items_are_for_supervisors_and_auditors_only(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        answers = [await browser.get("/holds"), await browser.get("/evidence/ev-1"), await browser.post("/holds/r-1/accept", data={"csrf_token": token, "reason": "已核实"})]
    assert [a.status_code for a in answers] == [403, 403, 403] and console.oversight.decisions == []
