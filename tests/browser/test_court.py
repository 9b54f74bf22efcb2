"""A court in Chromium over the whole stack: it signs in to its notices, submits a notice with a PDF through the form (a field refused first, then registered), opens the notice's page and its document, and cannot open another court's notice."""

from __future__ import annotations

import json
import random
import uuid

import httpx
from playwright.async_api import BrowserContext, Page, expect

from shared.plumbing.auth import Role
from tests.browser.support import HOME, PASSWORD, BrowserStack, Watched, screenshot
from tests.support import EXAMPLE_NOTICE, eventually, resident_id, sample_pdf, token, upload_document

# Chinese text reaches a person in time on a loaded two-core machine; a browser test waits for it, never sleeps.
SLOW = 30_000
COURT = "court-huancui-b"


def field(name: str) -> str:
    """Returns the selector of a form input by its id, which carries intake's path (`recipients[0].name`)."""
    return f'[id="{name}"]'


async def sign_in(page: Page, stack: BrowserStack, username: str) -> None:
    """Fills the sign-in form as a person does."""
    await page.goto(f"{stack.console}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('登录')")


async def another_courts_notice(stack: BrowserStack) -> str:
    """Registers a notice of 荣成市人民法院 (C371082) through intake, as that court would; returns its id."""
    rongcheng = token(Role.court, "C371082")
    async with httpx.AsyncClient(timeout=30) as client:
        stored = await upload_document(client, stack.stack.url("intake"), headers=rongcheng)
        person = json.loads(json.dumps(EXAMPLE_NOTICE["recipients"][0])) | {"id_number": resident_id(random.Random()), "phones": [], "emails": []}
        notice = {
            **EXAMPLE_NOTICE,
            "court_id": "C371082",
            "court_name": None,
            "court_reference": f"RC-{uuid.uuid4().hex[:12]}",
            "case_number": f"（2026）鲁1082民初{random.randrange(1000, 10000)}号",
            "documents": [{"title": "起诉状副本", "kind": "complaint_copy", "sha256": stored["sha256"]}],
            "recipients": [person],
        }
        registered = await client.post(f"{stack.stack.url('intake')}/v1/notices", json=notice, headers=rongcheng)
    assert registered.status_code == 201, registered.text
    return str(registered.json()["id"])


async def test_a_court_submits_a_notice_with_its_pdf_sees_a_field_refused_then_its_page_and_not_another_courts(
    stack: BrowserStack, desktop: BrowserContext, phone: BrowserContext
) -> None:
    stack.add_user(COURT, "court", "C371002")
    theirs = await another_courts_notice(stack)
    page = await desktop.new_page()
    watched = Watched(page)
    await sign_in(page, stack, COURT)
    await page.wait_for_url(f"{stack.console}/notices")
    await expect(page.locator("h1")).to_have_text("本院通知")
    await expect(page.locator("#court")).to_have_count(0)
    await page.click("a:has-text('提交送达通知')")
    await expect(page.locator("h1")).to_have_text("提交送达通知")
    assert (await page.input_value("#court_reference")).startswith("C371002-")

    case_number = f"（2026）鲁1002民初{random.randrange(1000, 10000)}号"
    await page.fill("#case_number", case_number)
    await page.fill("#cause", "民间借贷纠纷")
    await page.fill(field("documents[0].title"), "起诉状副本")
    await page.select_option(field("documents[0].kind"), "complaint_copy")
    await page.set_input_files(field("documents[0].file"), files=[{"name": "起诉状副本.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(pages=2)}])
    await page.fill(field("recipients[0].name"), "张三")
    await page.select_option(field("recipients[0].role"), "defendant")
    await page.select_option(field("recipients[0].id_type"), "resident_id")
    valid = resident_id(random.Random())
    # The check digit changed: intake refuses the number, naming recipients[0].id_number.
    await page.fill(field("recipients[0].id_number"), valid[:-1] + ("1" if valid[-1] != "1" else "2"))
    await page.fill(field("recipients[0].phones"), f"139{random.randrange(10**8):08d}")
    await page.fill(field("recipients[0].address"), HOME["text"])
    await page.fill(field("recipients[0].postcode"), HOME["postcode"])
    # A second recipient's row comes with htmx and, left empty, is not sent.
    await page.click("button:has-text('添加受送达人')")
    await expect(page.locator(field("recipients[1].name"))).to_be_visible()
    await page.click("button.button:has-text('提交')")

    await expect(page.locator(".error-summary")).to_contain_text("请修改以下问题")
    await expect(page.locator(".error-summary")).to_be_focused()
    await expect(page.locator(field("recipients[0].id_number-error"))).to_contain_text("第1位受送达人的证件号码有误")
    await expect(page.locator("main")).to_contain_text("已上传：起诉状副本.pdf（2页）")
    await screenshot(page, "desktop-court-submit-refused")
    await page.click("a[href='#recipients[0].id_number']")
    await expect(page.locator(field("recipients[0].id_number"))).to_be_focused()
    await page.fill(field("recipients[0].id_number"), valid)
    await page.click("button.button:has-text('提交')")

    await expect(page.locator("h1")).to_have_text(case_number)
    await expect(page.locator(".notice")).to_contain_text("送达通知已提交")
    notice_id = page.url.split("/notices/", 1)[1].split("?", 1)[0]
    await expect(page.locator("main")).to_contain_text("起诉状副本")
    document = page.locator("a:has-text('查看')").first
    opened = await page.request.get(f"{stack.console}{await document.get_attribute('href')}")
    assert opened.status == 200 and opened.headers["content-type"] == "application/pdf" and await opened.body() == sample_pdf(pages=2)
    # Delivery and evidence hear of the notice through Kafka: the page shows the recipient's progress and the timeline once they have.

    async def heard() -> bool:
        await page.reload()
        return bool(await page.locator(".timeline__entry").count() and await page.locator(".recipient").count())

    await eventually(heard, timeout=90, interval=1.0, what="delivery and evidence to hear of the notice")
    await expect(page.locator(".recipient")).to_contain_text("张三（被告）")
    await expect(page.locator(".timeline")).to_contain_text("法院提交送达通知，受理登记")
    await screenshot(page, "desktop-court-notice")
    # The refused form is answered 422, which Chromium notes as a failed load; nothing else (no script error, no CSP violation).
    assert [error for error in watched.errors if "status of 422" not in error] == [] and len(watched.errors) == 1

    answer = await page.goto(f"{stack.console}/notices/{theirs}")
    assert answer is not None and answer.status == 404
    await expect(page.locator("h1")).to_have_text("找不到页面")
    await page.goto(f"{stack.console}/notices")
    await expect(page.locator(f"a[href='/notices/{notice_id}']")).to_have_text(case_number)
    await expect(page.locator(f"a[href='/notices/{theirs}']")).to_have_count(0)

    small = await phone.new_page()
    await sign_in(small, stack, COURT)
    await small.wait_for_url(f"{stack.console}/notices")
    await screenshot(small, "phone-court-notices")
    await small.goto(f"{stack.console}/notices/{notice_id}")
    await expect(small.locator("h1")).to_have_text(case_number)
    await screenshot(small, "phone-court-notice")
    await small.goto(f"{stack.console}/notices/new")
    await screenshot(small, "phone-court-submit")
