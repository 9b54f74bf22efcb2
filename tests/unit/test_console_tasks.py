"""The delivery team's pages over fakes of delivery and evidence: Today by window, a task, beginning it, evidence checked at once, and an outcome checked, then recorded once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.console.adapters.delivery import Standing
from services.console.domain import by_window
from services.console.forms import Item
from tests import consoles
from tests.consoles import WINDOW_START, Console, hidden, signed_in, texts_of


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        await built.add("agent-1")
        yield built


def test_today_puts_the_late_first_then_one_group_per_day_and_window() -> None:
    later = WINDOW_START + timedelta(days=1, hours=9)
    tasks = [
        consoles.task("tomorrow", window_start=later, window_end=later + timedelta(hours=2)),
        consoles.task("morning-2"),
        consoles.task("late-2", late=True, window_start=WINDOW_START - timedelta(days=1)),
        consoles.task("morning-1"),
        consoles.task("late-1", late=True, window_start=WINDOW_START - timedelta(days=2)),
    ]
    groups = by_window(tasks)
    assert [(g.late, [t.task_id for t in g.tasks]) for g in groups] == [(True, ["late-1", "late-2"]), (False, ["morning-2", "morning-1"]), (False, ["tomorrow"])]
    assert [(str(g.day), g.start) for g in groups[1:]] == [("2026-11-23", WINDOW_START), ("2026-11-24", later)]
    assert by_window([]) == []


async def test_today_lists_each_window_with_the_late_first_marked_and_what_was_tried_in_chinese(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.delivery.add("agent-1", consoles.task("t-late", late=True, recipient_name="李四", tried=[{"channel": "email", "status": "failed", "detail": None, "at": None}]))
    console.delivery.add("agent-2", consoles.task("t-other", recipient_name="王五"))
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        page = texts_of((await browser.get("/today")).text)
    assert page.index("已超时（1）") < page.index("李四") < page.index("11月23日（周一） 09:00–12:00") < page.index("张三")
    assert "已尝试：短信未送达；电话未接通" in page and "已尝试：邮件未送达" in page
    assert "（2026）鲁1002民初1234号" in page and "山东省威海市环翠区新威路17号" in page and "王五" not in page


async def test_a_task_shows_the_party_the_address_the_papers_and_the_outcomes_it_may_have(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"), phones=["+8613800138000"])
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        page = await browser.get("/tasks/t-1")
        pdf = await browser.get("/tasks/t-1/print.pdf")
    text = texts_of(page.text)
    for shown in ("张三", "被告", "3710**********4210", "北纬37.51230°，东经122.12010°", "起诉状副本", "传票", "送达回证", "打印文书及送达回证", "开始送达"):
        assert shown in text, shown
    assert "+8613800138000" not in page.text, "phones only once the visit is begun"
    assert [o for o in ("当面签收", "拒绝签收（留置送达）", "未找到受送达人", "受送达人已搬离", "已张贴公告") if o in text] == [
        "当面签收",
        "拒绝签收（留置送达）",
        "未找到受送达人",
        "受送达人已搬离",
    ]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith("attachment;") and pdf.content.startswith(b"%PDF")


async def test_the_print_link_takes_the_print_out_and_each_ofd_document_has_its_own_link(console: Console) -> None:
    ofd = "ab" * 32
    console.delivery.add("agent-1", consoles.task("t-1", print_apart=[{"title": "判决书", "sha256": ofd}]))
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        page = await browser.get("/tasks/t-1")
        document = await browser.get(f"/tasks/t-1/documents/{ofd}")
        unknown = await browser.get(f"/tasks/t-1/documents/{'cd' * 32}")
    assert 'href="/tasks/t-1/print.pdf"' in page.text and f'href="/tasks/t-1/documents/{ofd}"' in page.text and "判决书（OFD）" in texts_of(page.text)
    assert (document.status_code, document.headers["content-type"]) == (200, "application/ofd") and "sandbox" in document.headers["content-security-policy"]
    assert unknown.status_code == 404


async def test_beginning_asks_for_a_reason_then_shows_the_phones_as_tel_links(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"), phones=["+8613800138000", "+8606315200000"])
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        empty = await browser.post("/tasks/t-1/begin", data={"csrf_token": token, "reason": "  "})
        begun = await browser.post("/tasks/t-1/begin", data={"csrf_token": token, "reason": "已到门口，无人应门"})
        page = await browser.get(begun.headers["location"])
    assert empty.status_code == 422 and consoles.messages(empty.text) == ["请填写开始送达的事由（至少两个字）"]
    assert begun.status_code == 303 and begun.headers["location"] == "/tasks/t-1#contact"
    assert 'href="tel:+8613800138000"' in page.text and 'href="tel:+8606315200000"' in page.text
    assert "拨打 138 0013 8000" in texts_of(page.text), "written as people read a number"
    assert console.delivery.begun == [("t-1", "已到门口，无人应门")]


async def test_an_outcome_form_states_its_law_and_carries_a_new_idempotency_key(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        first, second = (await browser.get("/tasks/t-1/outcome/refused")), (await browser.get("/tasks/t-1/outcome/refused"))
        served = await browser.get("/tasks/t-1/outcome/served")
        posted = await browser.get("/tasks/t-1/outcome/posted")
    assert "《中华人民共和国民事诉讼法》第八十九条" in texts_of(first.text) and "采用拍照、录像等方式记录送达过程" in first.text
    assert hidden(first.text, "idempotency_key") != hidden(second.text, "idempotency_key")
    assert 'accept="image/*" capture="environment"' in first.text
    text = texts_of(served.text)
    assert "第八十八条" in text and "同住成年家属" in text and "对方当事人" not in text, "only those who may sign are offered"
    assert posted.status_code == 404 and "不能记录为“已张贴公告”" in texts_of(posted.text)


async def test_a_photo_is_checked_at_once_and_what_to_do_is_said_in_chinese(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.evidence.flags = ["far_from_address", "no_gps"]
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        fields = {"kind": "photo", "scene": "refusal", "key": "a" * 32, "lat": "37.5123", "lon": "122.1201", "csrf_token": token}
        answers = [await browser.post("/tasks/t-1/evidence", data=fields, files={"file": ("IMG_0001.jpg", b"\xff\xd8\xffphoto", "image/jpeg")}) for _ in range(2)]
    text = texts_of(answers[0].text)
    assert "拍摄地点距地址较远：请在门口重新拍摄" in text and "照片没有位置信息" in text and "evidence--doubtful" in answers[0].text
    assert Item.decode(hidden(answers[0].text, "evidence")) == Item(id="ev-1", kind="photo", flags=("far_from_address", "no_gps"))
    [(item, metadata, content)] = console.evidence.items.values()
    assert metadata == {"notice_id": "n-t-1", "kind": "photo", "recipient_id": "r-t-1", "task_id": "t-1", "scene": "refusal", "location": {"lat": 37.5123, "lon": 122.1201}}
    assert content == b"\xff\xd8\xffphoto" and answers[1].text == answers[0].text, "the same key is the same item"


async def test_a_file_evidence_refuses_or_an_oversized_one_is_said_in_chinese(console: Console, tmp_path: Path) -> None:
    async with consoles.console(tmp_path / "small", max_upload_mb=0.001) as small:
        small.delivery.add("agent-1", consoles.task("t-1"))
        await small.add("agent-1")
        async with small.browser() as browser:
            token = await signed_in(browser, "agent-1")
            big = await browser.post("/tasks/t-1/evidence", data={"kind": "photo", "key": "b" * 32, "csrf_token": token}, files={"file": ("p.jpg", b"x" * 2000, "image/jpeg")})
            wrong = await browser.post("/tasks/t-1/evidence", data={"kind": "video-ish", "key": "c" * 32, "csrf_token": token}, files={"file": ("p.jpg", b"x", "image/jpeg")})
    assert big.status_code == 413 and "文件过大" in big.text and small.evidence.items == {}
    assert wrong.status_code == 422 and "无法读取此文件" in wrong.text


async def test_a_refusal_is_checked_then_recorded_once_however_often_it_is_sent(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        form = await browser.get("/tasks/t-1/outcome/refused")
        key = hidden(form.text, "idempotency_key")
        lacking = await browser.post("/tasks/t-1/outcome/refused", data={"csrf_token": token, "idempotency_key": key, "witness_name": "李四", "step": "check"})
        photo = await browser.post(
            "/tasks/t-1/evidence", data={"kind": "photo", "scene": "refusal", "key": "d" * 32, "csrf_token": token}, files={"file": ("p.jpg", b"\xff\xd8\xff", "image/jpeg")}
        )
        answers = {"csrf_token": token, "idempotency_key": key, "note": "拒绝开门，文书留置门口", "at": "2026-11-23T10:05", "evidence": hidden(photo.text, "evidence")}
        check = await browser.post("/tasks/t-1/outcome/refused", data=answers | {"step": "check"})
        edit = await browser.post("/tasks/t-1/outcome/refused", data=answers | {"step": "edit"})
        results = [await browser.post("/tasks/t-1/outcome/refused", data=answers | {"step": "submit"}) for _ in range(2)]
    assert lacking.status_code == 422 and consoles.messages(lacking.text) == ["请填写见证人所在单位或基层组织"]
    summary = texts_of(check.text)
    assert check.status_code == 200 and "提交前请核对" in summary and "拒收事由 拒绝开门，文书留置门口" in summary and "留置时间 2026-11-23 10:05" in summary
    assert "确认提交" in summary and hidden(check.text, "idempotency_key") == key
    assert edit.status_code == 200 and "拒绝开门，文书留置门口" in edit.text and hidden(edit.text, "evidence") == answers["evidence"]
    assert [r.status_code for r in results] == [200, 200]
    assert "受送达人已视为送达：留置送达（民事诉讼法第八十九条）" in texts_of(results[1].text)
    assert console.delivery.reports == {key: ("t-1", {"outcome": "refused", "evidence_ids": ["ev-1"], "at": "2026-11-23T10:05:00+08:00", "note": "拒绝开门，文书留置门口"})}


async def test_photos_sent_with_the_form_without_javascript_are_uploaded_once_and_checked(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.evidence.flags = ["time_mismatch"]
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get("/tasks/t-1/outcome/refused")).text, "idempotency_key")
        sent = {"csrf_token": token, "idempotency_key": key, "step": "check"}
        checks = [await browser.post("/tasks/t-1/outcome/refused", data=sent, files={"photos": ("IMG.jpg", b"\xff\xd8\xffnojs", "image/jpeg")}) for _ in range(2)]
    assert [c.status_code for c in checks] == [200, 200]
    assert "拍摄时间与本次任务时间不符" in texts_of(checks[0].text) and "有照片核验存疑" in texts_of(checks[0].text)
    [(item, metadata, _)] = console.evidence.items.values()
    assert metadata["scene"] == "refusal" and list(console.evidence.items)[0].startswith(f"{key}:")


@pytest.mark.parametrize(
    ("outcome", "fields", "messages"),
    [
        ("served", {}, ["请填写签收人姓名", "请选择签收人身份", "请让签收人签名，或上传签收后的送达回证照片（民事诉讼法第八十八条）"]),
        ("served", {"signer_name": "张三", "signer_role": "opposing_party", "evidence": "ev-9 signature"}, ["请选择签收人身份"]),
        ("refused", {}, ["请填写见证人的姓名和单位，或上传留置文书的现场照片（民事诉讼法第八十九条）"]),
        ("moved", {"new_address_postcode": "2642"}, ["请填写受送达人的新地址", "邮政编码为6位数字"]),
        ("not_found", {"at": "2099-01-01T09:00"}, ["时间不能晚于现在"]),
        ("not_found", {"at": "明天"}, ["请按“年-月-日 时:分”填写时间"]),
    ],
)
async def test_a_form_names_what_it_still_lacks_beside_each_field(console: Console, outcome: str, fields: dict[str, str], messages: list[str]) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get(f"/tasks/t-1/outcome/{outcome}")).text, "idempotency_key")
        answer = await browser.post(f"/tasks/t-1/outcome/{outcome}", data={"csrf_token": token, "idempotency_key": key, "step": "check"} | fields)
    assert answer.status_code == 422 and consoles.messages(answer.text) == messages
    assert "请修改以下问题" in answer.text and console.delivery.reports == {}


async def test_a_served_outcome_sends_the_signer_and_the_signature(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get("/tasks/t-1/outcome/served")).text, "idempotency_key")
        signature = await browser.post(
            "/tasks/t-1/evidence", data={"kind": "signature", "key": "e" * 32, "csrf_token": token}, files={"file": ("signature.png", b"\x89PNG", "image/png")}
        )
        answers = {
            "csrf_token": token,
            "idempotency_key": key,
            "signer_name": "张 三",
            "signer_role": "family_member",
            "signer_relation": "配偶",
            "evidence": hidden(signature.text, "evidence"),
        }
        result = await browser.post("/tasks/t-1/outcome/served", data=answers | {"step": "submit"})
    assert "签名" in texts_of(signature.text) and "已保存" in texts_of(signature.text)
    [(_, metadata, _)] = console.evidence.items.values()
    assert metadata["kind"] == "signature" and "scene" not in metadata and metadata["captured_at"]
    assert "受送达人已签收：直接送达" in texts_of(result.text)
    [(_, report)] = console.delivery.reports.values()
    assert report["signer"] == {"name": "张 三", "role": "family_member", "relation": "配偶"} and report["evidence_ids"] == ["ev-1"]


async def test_a_form_whose_key_the_console_did_not_make_is_refused(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        answer = await browser.post("/tasks/t-1/outcome/not_found", data={"csrf_token": token, "idempotency_key": "mine", "step": "submit"})
    assert answer.status_code == 400 and "此表单已失效" in texts_of(answer.text) and console.delivery.reports == {}


def test_an_item_survives_the_trip_through_a_hidden_field_and_a_forged_one_does_not() -> None:
    item = Item(id="0b0e6e1c-5a57-4b0c-9c1f-8f7f3c2d1e00", kind="photo", flags=("far_from_address", "no_gps"))
    assert Item.decode(item.encode()) == item and Item.decode("ev-1 signature") == Item(id="ev-1", kind="signature")
    assert Item.decode('ev-1 photo "><script>') is None and Item.decode("") is None and Item.decode("a b c d") is None


async def test_while_evidence_is_awaited_the_result_asks_again_under_the_same_key_until_the_recipient_stands(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.delivery.standing = "awaiting_evidence"
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get("/tasks/t-1/outcome/refused")).text, "idempotency_key")
        answers = {"csrf_token": token, "idempotency_key": key, "evidence": "ev-7 photo", "step": "submit"}
        waiting = await browser.post("/tasks/t-1/outcome/refused", data=answers)
        console.delivery.standing = "served"
        asked = await browser.post("/tasks/t-1/outcome/refused", data=answers, headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert "等待照片核验" in texts_of(waiting.text) and 'hx-trigger="every 3s"' in waiting.text and hidden(waiting.text, "idempotency_key") == key
    assert asked.text.lstrip().startswith('<section class="panel" id="standing">') and "hx-trigger" not in asked.text
    assert "受送达人已视为送达：留置送达（民事诉讼法第八十九条）" in texts_of(asked.text)
    assert len(console.delivery.reports) == 1


async def test_a_held_service_says_a_supervisor_will_review_it(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.delivery.standing = "held"
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get("/tasks/t-1/outcome/refused")).text, "idempotency_key")
        result = await browser.post("/tasks/t-1/outcome/refused", data={"csrf_token": token, "idempotency_key": key, "evidence": "ev-7 photo far_from_address", "step": "submit"})
    assert "送达主管审核认可后生效" in texts_of(result.text) and "hx-trigger" not in result.text


async def test_the_result_page_says_what_delivery_says_of_a_held_service_and_sends_the_refusal_reason_with_the_witness(console: Console) -> None:
    console.delivery.add("agent-1", consoles.task("t-1"))
    console.delivery.standing = "held"
    console.delivery.said = Standing(state="held", message_zh="送达暂不生效，已暂缓：照片拍摄地点距送达地址较远（ev-1）。送达主管将审核证据，决定认可或安排重新上门。")
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        key = hidden((await browser.get("/tasks/t-1/outcome/refused")).text, "idempotency_key")
        answers = {"csrf_token": token, "idempotency_key": key, "witness_name": "李四", "witness_organisation": "新威路社区居委会", "note": "称不认识原告"}
        result = await browser.post("/tasks/t-1/outcome/refused", data=answers | {"step": "submit"})
    assert result.status_code == 200 and "照片拍摄地点距送达地址较远（ev-1）。送达主管将审核证据" in texts_of(result.text)
    [(_, sent)] = console.delivery.reports.values()
    assert sent["witness"] == {"name": "李四", "organisation": "新威路社区居委会", "refusal_reason": "称不认识原告"}
