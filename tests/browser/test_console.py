"""The console in Chromium over the whole stack: signing in, lockout, CSRF, Today with a real visit, another agent's task, and an agent on a phone recording a refusal with a photo."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import BrowserContext, expect

from shared.contracts.events import GeoPoint
from shared.plumbing.auth import Role
from simulators import camera
from tests.browser.support import HOME, PASSWORD, SUPERVISOR, BrowserStack, Visit, Watched, screenshot, sign_in
from tests.support import eventually, token

# Chinese text reaches a person in time on a loaded two-core machine; a browser test waits for it, never sleeps.
SLOW = 30_000


async def standing(stack: BrowserStack, visit: Visit) -> dict[str, Any]:
    """Returns the visit's recipient as delivery tells a supervisor."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{stack.stack.url('delivery')}/v1/notices/{visit.notice_id}/delivery", headers=SUPERVISOR)
    assert answer.status_code == 200, answer.text
    return answer.json()["recipients"][0]


async def test_a_wrong_password_is_refused_in_chinese_beside_the_field(stack: BrowserStack, phone: BrowserContext, desktop: BrowserContext) -> None:
    stack.add_user("mistyped", "agent", "agent-weihai")
    for size, context in (("phone", phone), ("desktop", desktop)):
        page = await context.new_page()
        watched = Watched(page)
        await page.goto(f"{stack.console}/login")
        await screenshot(page, f"{size}-login")
        await sign_in(page, stack, "mistyped", "not the password")
        await expect(page.locator(".error-summary")).to_contain_text("请修改以下问题")
        await expect(page.locator("#password-error")).to_contain_text("用户名或密码不正确，请重新输入")
        await expect(page.locator(".error-summary")).to_be_focused()
        assert page.url == f"{stack.console}/login"
        await screenshot(page, f"{size}-login-refused")
        assert watched.errors == []


async def test_repeated_failures_lock_the_username_and_the_page_says_so(stack: BrowserStack, phone: BrowserContext) -> None:
    stack.add_user("forgetful", "agent", "agent-weihai")
    page = await phone.new_page()
    for _ in range(4):
        await sign_in(page, stack, "forgetful", "a wrong password")
        await expect(page.locator("#password-error")).to_contain_text("用户名或密码不正确")
    await sign_in(page, stack, "forgetful", "a wrong password")
    await expect(page.locator("#username-error")).to_contain_text("登录失败次数过多，此账号已暂时锁定。请 15 分钟后再试")
    await sign_in(page, stack, "forgetful")
    await expect(page.locator("#username-error")).to_contain_text("已暂时锁定")
    assert page.url == f"{stack.console}/login"
    await screenshot(page, "phone-login-locked")
    # Every attempt is in the console's audit log, read as on any service, with the browser's address and never a password.
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{stack.console}/v1/audit-log", params={"actor": "agent-weihai", "limit": 1000}, headers=token(Role.auditor, "browser-auditor"))
    assert answer.status_code == 200, answer.text
    attempts = [(e["outcome"], e["client"]) for e in reversed(answer.json()) if e["target"] == "user:forgetful"]
    assert attempts == [("wrong_password", "127.0.0.1")] * 5 + [("locked", "127.0.0.1")]
    assert "a wrong password" not in answer.text and PASSWORD not in answer.text


async def test_a_post_without_the_csrf_token_is_refused_and_delivery_records_nothing(stack: BrowserStack, desktop: BrowserContext) -> None:
    visit = await stack.visit()
    page = await desktop.new_page()
    await sign_in(page, stack, visit.agent)
    await expect(page.locator("h1")).to_have_text("今日任务")
    # The browser's own cookie goes with these requests, as it would with a forged form on another site.
    for path, form in ((f"/tasks/{visit.task_id}/begin", {"reason": "伪造"}), (f"/tasks/{visit.task_id}/outcome/not_found", {"idempotency_key": "0" * 32, "step": "submit"})):
        answer = await page.request.post(f"{stack.console}{path}", form=form, max_redirects=0)
        assert answer.status == 403 and "页面已过期或请求来源无法验证，操作未执行" in await answer.text(), path
    task = await stack.task(visit.task_id)
    assert (task["status"], task["begun_at"], task["reported_at"]) == ("open", None, None)


async def test_an_agent_sees_today_with_the_task_and_another_agents_task_is_not_found_while_a_supervisor_sees_it_on_the_board_and_opens_it(
    stack: BrowserStack, phone: BrowserContext, desktop: BrowserContext
) -> None:
    visit = await stack.visit()
    for size, context in (("phone", phone), ("desktop", desktop)):
        page = await context.new_page()
        watched = Watched(page)
        await sign_in(page, stack, visit.agent)
        await page.wait_for_url(f"{stack.console}/today")
        card = page.locator(f"a[href='/tasks/{visit.task_id}']")
        await expect(card).to_contain_text(visit.case_number)
        await expect(card).to_contain_text(HOME["text"])
        await expect(card).to_contain_text("电话未接通")
        await screenshot(page, f"{size}-today")
        await page.click("a:has-text('刷新')")
        await expect(card).to_be_visible()
        await card.click()
        await expect(page.locator("h1")).to_have_text(visit.case_number)
        await screenshot(page, f"{size}-task")
        for outcome in ("served", "refused", "not_found", "moved"):
            await page.goto(f"{stack.console}/tasks/{visit.task_id}/outcome/{outcome}")
            await expect(page.locator(".law__title")).to_contain_text("法律依据")
            await screenshot(page, f"{size}-outcome-{outcome}")
        assert watched.errors == []
        await context.clear_cookies()
        await sign_in(page, stack, visit.other_agent)
        answer = await page.goto(f"{stack.console}/tasks/{visit.task_id}")
        assert answer is not None and answer.status == 404
        await expect(page.locator("h1")).to_have_text("找不到页面")
        await screenshot(page, f"{size}-not-found")
        await context.clear_cookies()
        await sign_in(page, stack, "supervisor")
        await expect(page.locator("h1")).to_have_text("团队看板")
        await expect(page.locator(f"a[href='/tasks/{visit.task_id}']").first).to_be_visible()
        await screenshot(page, f"{size}-board")
        for path, title in (("/roster", "花名册"), ("/holds", "待审核证据"), ("/calendar", "节假日安排"), (f"/notices?case_number={visit.case_number}", "通知列表")):
            await page.goto(f"{stack.console}{path}")
            await expect(page.locator("h1")).to_have_text(title)
            await screenshot(page, f"{size}-{path.strip('/').split('?')[0]}")
        await expect(page.locator("main")).to_contain_text(visit.case_number)
        await page.goto(f"{stack.console}/tasks/{visit.task_id}")
        await expect(page.locator("h1")).to_have_text(visit.case_number)


async def test_an_agent_on_a_phone_records_a_refusal_with_a_photo_and_the_recipient_is_served_by_refusal(stack: BrowserStack, phone: BrowserContext) -> None:
    visit = await stack.visit()
    page = await phone.new_page()
    watched = Watched(page)
    await sign_in(page, stack, visit.agent)
    await page.click(f"a[href='/tasks/{visit.task_id}']")
    await page.fill("#reason", "已到门口，敲门无人应答，电话联系")
    await page.click("button:has-text('开始送达')")
    await expect(page.locator(f"a[href='tel:{visit.phone}']")).to_be_visible()
    await screenshot(page, "phone-task-begun")
    await page.click("a:has-text('拒绝签收（留置送达）')")
    await expect(page.locator("h1")).to_have_text("拒绝签收（留置送达）")
    await expect(page.locator(".law")).to_contain_text("第八十九条")
    # The photo at the door: the phone's camera writes where and when (a few metres from the address, now on the stack's clock).
    taken = camera.jpeg(location=GeoPoint(lat=HOME["location"]["lat"] + 0.0001, lon=HOME["location"]["lon"]), taken_at=stack.clock.now().replace(microsecond=0))
    await page.set_input_files("#photos", files=[{"name": "IMG_20261123.jpg", "mimeType": "image/jpeg", "buffer": taken}])
    await expect(page.locator("#evidence-list .evidence")).to_contain_text("照片已保存，拍摄时间和地点核验通过", timeout=SLOW)
    await page.fill("#note", "受送达人拒绝开门，文书留置于门口")
    await screenshot(page, "phone-outcome-refused-photo")
    await page.click("button:has-text('继续')")
    await expect(page.locator("h1")).to_have_text("提交前请核对")
    await expect(page.locator(".summary")).to_contain_text("受送达人拒绝开门，文书留置于门口")
    await screenshot(page, "phone-check")
    await page.click("button:has-text('确认提交')")
    await expect(page.locator("h1")).to_have_text("送达结果已记录")
    # Delivery's own words once the photo is recorded: a refusal is deemed served (CPL 89).
    await expect(page.locator("#standing")).to_contain_text("即视为送达（民事诉讼法第89条）", timeout=SLOW)
    await screenshot(page, "phone-result")
    assert watched.errors == []

    async def served() -> dict[str, Any] | None:
        recipient = await standing(stack, visit)
        return recipient if recipient["status"] == "served" else None

    recipient = await eventually(served, what="delivery to count the refusal")
    assert (recipient["served"]["method"], recipient["legal_basis"]) == ("refusal", "民事诉讼法第89条")
    task = await stack.task(visit.task_id)
    assert task["status"] == "reported" and task["outcome"]["outcome"] == "refused" and len(task["outcome"]["evidence_ids"]) == 1


async def test_a_service_signed_on_the_screen_is_recorded_as_direct_service(stack: BrowserStack, desktop: BrowserContext) -> None:
    visit = await stack.visit()
    page = await desktop.new_page()
    watched = Watched(page)
    await sign_in(page, stack, visit.agent)
    await page.goto(f"{stack.console}/tasks/{visit.task_id}/outcome/served")
    await page.fill("#signer_name", "张三")
    await page.select_option("#signer_role", "recipient")
    pad = await page.locator("#signature-pad").bounding_box()
    assert pad is not None
    await page.mouse.move(pad["x"] + 40, pad["y"] + 60)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(pad["x"] + 40 + step * 30, pad["y"] + 60 + (step % 3) * 25)
    await page.mouse.up()
    await page.click("#signature-save")
    await expect(page.locator("#evidence-list .evidence")).to_contain_text("签名", timeout=SLOW)
    await expect(page.locator("#evidence-list .evidence")).to_contain_text("已保存")
    await screenshot(page, "desktop-outcome-served-signed")
    await page.click("button:has-text('继续')")
    await expect(page.locator(".summary")).to_contain_text("本人")
    await screenshot(page, "desktop-check")
    await page.click("button:has-text('确认提交')")
    await expect(page.locator("#standing")).to_contain_text("受送达人已签收：直接送达", timeout=SLOW)
    await screenshot(page, "desktop-result")
    assert watched.errors == []
    recipient = await standing(stack, visit)
    assert recipient["status"] == "served"
    assert (recipient["served"]["method"], recipient["served"]["signer_name"], recipient["served"]["signer_role"]) == ("direct", "张三", "recipient")
