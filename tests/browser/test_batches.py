"""A court's workbook of notices in Chromium: uploaded with its PDF on the console's page, registered with a progress bar, one row refused with its reason."""

from __future__ import annotations

import random
from pathlib import Path

from playwright.async_api import BrowserContext, expect

from tests import workbooks
from tests.browser.support import BrowserStack, Watched, screenshot, sign_in
from tests.support import sample_pdf


async def test_a_court_uploads_a_workbook_with_its_pdf_and_sees_the_one_refused_row_with_its_reason(stack: BrowserStack, desktop: BrowserContext, tmp_path: Path) -> None:
    stack.add_user("clerk-huancui", "court", "C371002")
    book = tmp_path / "十一月送达任务.xlsx"
    book.write_bytes(workbooks.notices(5, seed=random.randrange(10**6), changes={2: {"证件号码": "371002198503124211"}}))
    pdf = tmp_path / workbooks.FILE
    pdf.write_bytes(sample_pdf())
    page = await desktop.new_page()
    watched = Watched(page)
    await sign_in(page, stack, "clerk-huancui")
    await page.click("a.nav__link:has-text('批量导入')")
    await expect(page.locator("h1")).to_have_text("批量导入送达任务")
    await expect(page.locator("a[href='/notices/batch/template.xlsx']")).to_be_visible()
    await screenshot(page, "desktop-batch-upload")
    await page.set_input_files("#workbook", str(book))
    await page.set_input_files("#files", [str(pdf)])
    await page.click("button:has-text('上传并登记')")
    await expect(page.locator("h1")).to_have_text("批量导入：十一月送达任务.xlsx")
    # htmx polls the progress until every notice has its outcome.
    await expect(page.locator("#batch-progress .label")).to_contain_text("登记完成（5 / 5 份通知）", timeout=90_000)
    await expect(page.locator("#batch-bar")).to_have_attribute("value", "5")
    await expect(page.locator(".summary--counts")).to_contain_text("登记4")
    await expect(page.locator(".summary--counts")).to_contain_text("退回1")
    refused = page.locator("tr.row--refused")
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text("送达任务")
    await expect(refused.locator("td[data-label='行']")).to_have_text("4")
    await expect(refused.locator("td[data-label='列']")).to_have_text("证件号码")
    await expect(refused.locator("td[data-label='原因']")).to_have_text("居民身份证号码校验位不符，请核对")
    await screenshot(page, "desktop-batch-done")
    assert watched.errors == []
