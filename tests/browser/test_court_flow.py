"""A court's notices from workbook to dashboard in Chromium over the whole stack: the template filled in, the workbook uploaded with its PDFs and one row refused, a notice followed to served, its documents and its report in Chromium's PDF viewer, the dashboard's figures against the known history, and another court that sees none of it."""

from __future__ import annotations

import json
import random
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from playwright.async_api import BrowserContext, Page, expect

from services.console.dashboard import percent, yuan
from services.console.notice_filter import STATUSES
from services.intake.workbook import DOCUMENTS, TASKS
from shared.contracts.events import GeoPoint
from shared.plumbing.auth import Role
from shared.plumbing.clock import local_date
from shared.plumbing.documents import SANDBOX_CSP
from simulators import camera
from tests.browser.support import HOME, REPO, SUPERVISOR, BrowserStack, Watched, screenshot, sign_in, viewed_pdf
from tests.pdfs import pdf_pages
from tests.support import address_confirmation, eventually, resident_id, sample_pdf, token, until

COURT, OTHER_COURT = "clerk-weihai", "clerk-rongcheng"
COURT_ID = "C371000"
CLERK = token(Role.court, COURT_ID)
# A bad check digit: intake refuses the row's 证件号码 and registers the others.
BAD_ID = "371002198503124211"
# What one attempt of each channel costs, as delivery charges it (docs/kpis.md): the known history's prices.
PRICES: dict[str, int] = tomllib.loads((REPO / "services" / "delivery" / "policy.toml").read_text())["prices"]


def person(name: str, phone: str | None) -> dict[str, Any]:
    """Returns a recipient of the court's case: a defendant at the browser tests' home, with a phone or none."""
    return {
        "name": name,
        "kind": "person",
        "id_type": "resident_id",
        "id_number": resident_id(random.Random()),
        "phones": [phone] if phone else [],
        "addresses": [{"text": HOME["text"], "postcode": HOME["postcode"]}],
    }


def row(reference: str, case_number: str, party: dict[str, Any]) -> dict[str, Any]:
    """Returns the row of the 送达任务 sheet a clerk types for one notice with one recipient."""
    return {
        "法院编号": reference,
        "案号": case_number,
        "案由": "民间借贷纠纷",
        "审理程序": "一审",
        "受送达人": party["name"],
        "类型": "自然人",
        "诉讼地位": "被告",
        "证件类型": "居民身份证",
        "证件号码": party["id_number"],
        "手机": ";".join(party["phones"]) or None,
        "地址": HOME["text"],
        "邮编": HOME["postcode"],
        "下落不明": "否",
    }


def fill(template: Path, tasks: list[dict[str, Any]], documents: list[dict[str, Any]], out: Path) -> None:
    """Fills the downloaded template as a clerk does in Excel: the example rows replaced by the court's own, under the template's headers."""
    book = load_workbook(template)
    for name, rows in ((TASKS, tasks), (DOCUMENTS, documents)):
        sheet = book[name]
        headers = [cell.value for cell in sheet[1]]
        sheet.delete_rows(2, sheet.max_row)
        for values in rows:
            sheet.append([values.get(str(header)) for header in headers])
    book.save(out)


async def delivery_of(client: httpx.AsyncClient, stack: BrowserStack, notice_id: str) -> dict[str, Any] | None:
    """Returns the notice's only recipient as delivery tells a supervisor, once delivery has it."""
    answer = await client.get(f"{stack.stack.url('delivery')}/v1/notices/{notice_id}/delivery", headers=SUPERVISOR)
    return answer.json()["recipients"][0] if answer.status_code == 200 else None


async def refused_at_the_door(client: httpx.AsyncClient, stack: BrowserStack, notice_id: str) -> None:
    """Records through the APIs what an agent does at the door: the visit delivery planned, a photo of the refusal, the outcome."""

    async def open_task() -> dict[str, Any] | None:
        recipient = await delivery_of(client, stack, notice_id)
        return next((t for t in recipient["tasks"] if t["status"] == "open"), None) if recipient else None

    task = await eventually(open_task, timeout=90, interval=0.5, what="the visit of the recipient without a phone")
    # The photo is taken within the visit's window, as the place and time checks want: now, or once a later window opens.
    start, end = datetime.fromisoformat(task["window_start"]), datetime.fromisoformat(task["window_end"])
    taken = min(await until(stack.clock, start, what="the visit's window to open"), end).replace(microsecond=0)
    photo = camera.jpeg(location=GeoPoint(lat=HOME["location"]["lat"] + 0.0001, lon=HOME["location"]["lon"]), taken_at=taken)
    metadata = {"notice_id": notice_id, "kind": "photo", "scene": "refusal", "task_id": task["task_id"], "captured_at": taken.isoformat()}
    uploaded = await client.post(
        f"{stack.stack.url('evidence')}/v1/evidence",
        files={"metadata": (None, json.dumps(metadata), "application/json"), "file": ("IMG_refusal.jpg", photo, "image/jpeg")},
        headers=token(Role.agent, task["agent_id"]),
    )
    assert uploaded.status_code == 201, uploaded.text
    reported = await client.post(
        f"{stack.stack.url('delivery')}/v1/tasks/{task['task_id']}/outcome",
        json={"outcome": "refused", "at": taken.isoformat(), "evidence_ids": [uploaded.json()["id"]]},
        headers=SUPERVISOR,
    )
    assert reported.status_code == 200, reported.text


async def listed(page: Page, stack: BrowserStack) -> dict[str, str]:
    """Returns the notices the person's list shows, in progress and completed: case number → notice id."""
    found: dict[str, str] = {}
    for status in STATUSES:
        await page.goto(f"{stack.console}/notices?status={status}")
        for link in await page.locator("table a[href^='/notices/']").all():
            href = str(await link.get_attribute("href"))
            if re.fullmatch(r"/notices/[A-Za-z0-9_-]+", href) and href not in ("/notices/new", "/notices/batch"):
                found[(await link.inner_text()).strip()] = href.removeprefix("/notices/")
    return found


async def figures(page: Page) -> dict[str, str]:
    """Returns the dashboard's cards as shown: label → figure."""
    labels = await page.locator(".card__label").all_text_contents()
    values = await page.locator(".card__value").all_text_contents()
    return dict(zip((label.strip() for label in labels), (value.strip() for value in values), strict=True))


async def test_a_court_uploads_its_workbook_follows_a_notice_to_served_reads_its_report_and_dashboard_and_another_court_sees_none_of_it(
    stack: BrowserStack, desktop: BrowserContext, tmp_path: Path
) -> None:
    numbers = random.sample(range(1000, 10000), 3)
    cases = [f"（2026）鲁10民初{n}号" for n in numbers]
    references = [f"WH-{n}" for n in numbers]
    phone = f"+86139{random.randrange(10**8):08d}"
    # The known history: 王芳 consented to SMS service and her phone takes it (served electronically on arrival);
    # 李强 has no phone, so an agent visits and he refuses at the door; 赵六's row has a wrong ID number.
    wang, li, zhao = person("王芳", phone), person("李强", None), person("赵六", None)
    zhao["id_number"] = BAD_ID
    pdfs = {f"传票-{n}.pdf": sample_pdf(pages=2, text=f"传票 {case}") for n, case in zip(numbers, cases, strict=True)}
    async with httpx.AsyncClient(timeout=30) as client:
        scripted = await client.post(f"{stack.stack.url('twilio_sim')}/sim/script", json={"number": phone, "sms": {"outcome": "delivered"}})
        assert scripted.status_code in (200, 201), scripted.text
        confirmed = await client.post(
            f"{stack.stack.url('intake')}/v1/address-confirmations", json=address_confirmation(wang, case_number=cases[0], phone=phone, consent=True), headers=CLERK
        )
        assert confirmed.status_code in (200, 201), confirmed.text

    page = await desktop.new_page()
    watched = Watched(page)
    await sign_in(page, stack, COURT)
    await page.wait_for_url(f"{stack.console}/notices")
    await page.click("a.nav__link:has-text('批量导入')")
    await expect(page.locator("h1")).to_have_text("批量导入送达任务")
    async with page.expect_download() as downloading:
        await page.click("a[href='/notices/batch/template.xlsx']")
    template = tmp_path / "template.xlsx"
    await (await downloading.value).save_as(template)
    book = tmp_path / "威海中院十一月送达任务.xlsx"
    fill(
        template,
        [row(reference, case, party) for reference, case, party in zip(references, cases, (wang, li, zhao), strict=True)],
        [{"法院编号": reference, "文书名称": "传票", "文书种类": "传票", "文件名": name} for reference, name in zip(references, pdfs, strict=True)],
        book,
    )
    for name, data in pdfs.items():
        (tmp_path / name).write_bytes(data)
    await page.set_input_files("#workbook", str(book))
    await page.set_input_files("#files", [str(tmp_path / name) for name in pdfs])
    await page.click("button:has-text('上传并登记')")
    await expect(page.locator("h1")).to_have_text(f"批量导入：{book.name}")
    await expect(page.locator("#batch-progress .label")).to_contain_text("登记完成（3 / 3 份通知）", timeout=90_000)
    await expect(page.locator(".summary--counts")).to_contain_text("登记2")
    await expect(page.locator(".summary--counts")).to_contain_text("退回1")
    refused = page.locator("tr.row--refused")
    await expect(refused).to_have_count(1)
    await expect(refused.locator("td[data-label='工作表']")).to_have_text(TASKS)
    await expect(refused.locator("td[data-label='行']")).to_have_text("4")
    await expect(refused.locator("td[data-label='列']")).to_have_text("证件号码")
    await expect(refused.locator("td[data-label='原因']")).to_have_text("居民身份证号码校验位不符，请核对")
    await screenshot(page, "desktop-court-flow-batch")

    await page.click("a.nav__link:has-text('本院通知')")
    await expect(page.locator("h1")).to_have_text("本院通知")

    # Delivery lists a notice once it has heard of it through Kafka, under 送达中 or, served already, 已完成.
    async def both_listed() -> dict[str, str] | None:
        found = await listed(page, stack)
        return found if cases[0] in found and cases[1] in found else None

    found = await eventually(both_listed, timeout=90, interval=1.0, what="the court's notice list to show both notices")
    assert cases[2] not in found, found
    served_id, refused_id = found[cases[0]], found[cases[1]]
    await screenshot(page, "desktop-court-flow-notices")

    async with httpx.AsyncClient(timeout=30) as client:
        await refused_at_the_door(client, stack, refused_id)

    # 王芳's SMS arrives and serves her (CPL 90): the notice's page says so once delivery has it.
    await page.goto(f"{stack.console}/notices/{served_id}")
    await expect(page.locator("h1")).to_have_text(cases[0])

    async def served() -> bool:
        await page.reload()
        return "已送达" in " ".join(await page.locator(".recipient").all_inner_texts())

    await eventually(served, timeout=120, interval=1.0, what="the notice's page to say 王芳 was served")
    await expect(page.locator(".recipient")).to_contain_text("电子送达")

    async def reported() -> bool:
        await page.reload()
        return bool(await page.locator("section[aria-labelledby='report-title'] a:has-text('PDF')").count())

    await eventually(reported, timeout=120, interval=1.0, what="the report of the served notice")
    await screenshot(page, "desktop-court-flow-served")
    report_link = str(await page.locator("section[aria-labelledby='report-title'] a:has-text('PDF')").first.get_attribute("href"))
    document_link = str(await page.locator("a:has-text('查看')").first.get_attribute("href"))
    report = await page.request.get(f"{stack.console}{report_link}")
    assert report.status == 200 and report.headers["content-type"] == "application/pdf"
    body = await report.body()
    assert body.startswith(b"%PDF-") and cases[0] in "".join(pdf_pages(body, tmp_path))
    assert watched.errors == []

    # The documents and the report in Chromium's own PDF viewer, each under the policy that sandboxes it.
    headers, pages = await viewed_pdf(page, f"{stack.console}{document_link}", what="the notice's document through the console")
    assert (headers["content-security-policy"], pages) == (SANDBOX_CSP, "2")
    await screenshot(page, "desktop-court-flow-document-viewer")
    headers, _ = await viewed_pdf(page, f"{stack.console}{report_link}", what="the report through the console")
    assert "sandbox" in headers["content-security-policy"]
    sha256 = document_link.rsplit("/", 1)[1].split("?", 1)[0]
    intake = await desktop.new_page()
    await intake.set_extra_http_headers(CLERK)
    headers, pages = await viewed_pdf(intake, f"{stack.stack.url('intake')}/v1/documents/{sha256}?disposition=inline", what="the document from intake")
    assert (headers["content-security-policy"], pages) == (SANDBOX_CSP, "2")
    async with httpx.AsyncClient(timeout=30) as client:
        sent = (await client.get(f"{stack.stack.url('twilio_sim')}/sim/messages", params={"to": phone})).json()["messages"]
    link = re.search(r"/e/([A-Za-z0-9_-]{16,128})", " ".join(message["body"] for message in sent))
    assert link is not None, sent
    recipient = await desktop.new_page()
    await recipient.goto(f"{stack.stack.url('delivery')}/e/{link.group(1)}")
    await expect(recipient.locator("main")).to_contain_text("传票")
    headers, pages = await viewed_pdf(recipient, f"{stack.stack.url('delivery')}/e/{link.group(1)}/documents/1", what="the document on the e-delivery page")
    assert (headers["content-security-policy"], pages) == (SANDBOX_CSP, "2")
    await screenshot(recipient, "desktop-edelivery-document-viewer")

    # The known history, as delivery tells it: one SMS for 王芳, one visit for 李强, both served.
    async with httpx.AsyncClient(timeout=30) as client:

        async def settled() -> list[dict[str, Any]] | None:
            both = [await delivery_of(client, stack, notice_id) for notice_id in (served_id, refused_id)]
            done = [r for r in both if r is not None and r["status"] == "served"]
            return done if len(done) == 2 else None

        history = await eventually(settled, timeout=90, interval=0.5, what="delivery to count the refusal")
    assert [[a["channel"] for a in r["attempts"]] for r in history] == [["sms"], ["visit"]]
    assert [r["served"]["method"] for r in history] == ["electronic", "refusal"]
    assert {r["service_date"] for r in history} == {local_date(stack.clock.now()).isoformat()}
    cost = PRICES["sms"] + PRICES["visit"]
    # Both were served on the day of receipt, at their first attempt, and both notices completed before their due date.
    expected = {
        "送达成功率": percent({"numerator": 2, "denominator": 2, "value": 1.0}),
        "3个工作日内送达率": percent({"numerator": 2, "denominator": 2, "value": 1.0}),
        "超期送达文书率": percent({"numerator": 0, "denominator": 2, "value": 0.0}),
        "首次尝试成功率": percent({"numerator": 2, "denominator": 2, "value": 1.0}),
        "电子送达占比": percent({"numerator": 1, "denominator": 2, "value": 0.5}),
        "每件文书费用": yuan(cost / 2),
    }

    await page.goto(f"{stack.console}/notices/{served_id}")
    await page.click("a.nav__link:has-text('统计看板')")
    await expect(page.locator("h1")).to_have_text("统计看板")

    async def counted() -> bool:
        await page.reload()
        return "共 2 件文书、2 名受送达人（已送达 2，办理中 0）" in await page.locator("main").inner_text()

    await eventually(counted, timeout=90, interval=1.0, what="the dashboard to count the two notices")
    shown = await figures(page)
    assert {label: shown[label] for label in expected} == expected
    await expect(page.locator(".card", has_text="每件文书费用")).to_contain_text(f"2件文书，合计 {yuan(cost)}")
    await screenshot(page, "desktop-court-flow-dashboard")
    assert watched.errors == []

    # 荣成's clerk: neither notice is theirs to open or to list.
    await desktop.clear_cookies()
    await sign_in(page, stack, OTHER_COURT)
    await page.wait_for_url(f"{stack.console}/notices")
    theirs = await listed(page, stack)
    assert not {cases[0], cases[1]} & set(theirs), theirs
    for notice_id in (served_id, refused_id):
        answer = await page.goto(f"{stack.console}/notices/{notice_id}")
        assert answer is not None and answer.status == 404
        await expect(page.locator("h1")).to_have_text("找不到页面")
    await screenshot(page, "desktop-court-flow-other-court")
