"""A lawyer in Chromium over the whole stack: a notice served on the demo firm by the party's consent, the inbox with it unread, a document opened, the 签收 and its certificate with address and browser, and the delivery report holding the acknowledgement."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime
from typing import Any

import httpx
from playwright.async_api import BrowserContext, expect

from services.console.demo import DEMO_ACCOUNTS
from shared.contracts.topics import DELIVERY_EVENTS, TopicNames
from shared.plumbing.auth import Role
from tests.browser.support import HOME, BrowserStack, Watched, screenshot, sign_in, viewed_pdf
from tests.support import EXAMPLE_NOTICE, eventually, read_topic, resident_id, token, upload_examples

SLOW = 30_000
COURT = token(Role.court, "C371002")
[DEMO_LAWYER] = [account for account in DEMO_ACCOUNTS if account.role is Role.lawyer]
FIRM = DEMO_LAWYER.scope
FIRM_MAILBOX = "songda@firm.example"


async def served_on_the_firm(stack: BrowserStack) -> tuple[str, str]:
    """Registers a notice whose defendant the demo firm represents, after the defendant agreed to service through the firm's mailbox; returns the notice id and case number."""
    case_number = f"（2026）鲁1002民初{random.randrange(1000, 10000)}号"
    person = json.loads(json.dumps(EXAMPLE_NOTICE["recipients"][0]))
    person.update(id_number=resident_id(random.Random()), phones=[], emails=[], addresses=[HOME], lawyer={"name": "王律师", "firm": DEMO_LAWYER.display_name, "firm_uscc": FIRM})
    consent = {
        "case_number": case_number,
        "stage": "first_instance",
        "party": {k: person[k] for k in ("name", "kind", "id_type", "id_number")},
        "address": {"text": HOME["text"], "postcode": HOME["postcode"]},
        "e_delivery": {"consent": True, "channels": [{"channel": "lawyer_firm", "address": FIRM_MAILBOX}]},
        "confirmed_at": "2026-11-20",
    }
    notice = {**EXAMPLE_NOTICE, "court_reference": f"L-{uuid.uuid4().hex[:12]}", "case_number": case_number, "recipients": [person]}
    intake = stack.stack.url("intake")
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await client.post(f"{intake}/v1/address-confirmations", json=consent, headers=COURT)).status_code == 201
        await upload_examples(client, intake, headers=COURT)
        registered = await client.post(f"{intake}/v1/notices", json=notice, headers=COURT)
        assert registered.status_code == 201, registered.text
    return registered.json()["id"], case_number


async def test_a_lawyer_opens_and_acknowledges_what_was_served_on_the_firm_and_the_report_holds_it(
    stack: BrowserStack, desktop: BrowserContext, phone: BrowserContext, kafka: str
) -> None:
    stack.add_user("lawyer-browser", "lawyer", FIRM)
    notice_id, case_number = await served_on_the_firm(stack)

    async def in_the_inbox() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as client:
            items = (await client.get(f"{stack.stack.url('delivery')}/v1/firm/inbox", headers=token(Role.lawyer, FIRM))).json()["items"]
        return next((i for i in items if i["notice_id"] == notice_id), None)

    item = await eventually(in_the_inbox, timeout=90, interval=0.5, what="the notice in the firm's inbox")
    attempt_id = item["attempt_id"]

    # Signed in, the lawyer lands on the inbox: the item is there, unread, with its due date.
    page = await desktop.new_page()
    watched = Watched(page)
    await sign_in(page, stack, "lawyer-browser")
    await expect(page).to_have_url(f"{stack.console}/inbox", timeout=SLOW)
    entry = page.locator(f"a[href='/inbox/{attempt_id}']")
    await expect(entry).to_contain_text(case_number, timeout=SLOW)
    await expect(entry).to_contain_text("未读")
    await expect(entry).to_contain_text("期限")

    # The item: its documents open through the console (the real file in Chromium's viewer), each opening recorded.
    await entry.click()
    await expect(page.locator("main")).to_contain_text("起诉状副本", timeout=SLOW)
    document = str(await page.locator("a:has-text('起诉状副本')").get_attribute("href"))
    headers, pages = await viewed_pdf(page, f"{stack.console}{document}", what="the complaint through the console")
    assert "sandbox" in headers["content-security-policy"] and int(pages) >= 1
    browser = await page.evaluate("navigator.userAgent")

    # 签收, then the certificate: the court, the case, the firm, the documents' hashes, the time, the address and the browser.
    await page.goto(f"{stack.console}/inbox/{attempt_id}")
    await page.click("button:has-text('签收')")
    await expect(page).to_have_url(f"{stack.console}/inbox/{attempt_id}/certificate", timeout=SLOW)
    main = page.locator("main")
    for shown in ("电子送达凭证", "威海市环翠区人民法院", case_number, DEMO_LAWYER.display_name, EXAMPLE_NOTICE["documents"][0]["sha256"], "lawyer-browser"):
        await expect(main).to_contain_text(shown)
    await expect(page.locator("#acknowledged-ip")).to_have_text("127.0.0.1")
    await expect(page.locator("#acknowledged-browser")).to_have_text(browser)
    assert watched.errors == []

    # On a phone: the inbox says 已签收, and none of the lawyer's pages scrolls sideways.
    small = await phone.new_page()
    await sign_in(small, stack, "lawyer-browser")
    await expect(small.locator(f"a[href='/inbox/{attempt_id}']")).to_contain_text("已签收", timeout=SLOW)
    await screenshot(small, "phone-lawyer-inbox")
    await small.goto(f"{stack.console}/inbox/{attempt_id}")
    await screenshot(small, "phone-lawyer-item")
    await small.goto(f"{stack.console}/inbox/{attempt_id}/certificate")
    await expect(small.locator("#acknowledged-ip")).to_have_text("127.0.0.1")
    await screenshot(small, "phone-lawyer-certificate")

    # Delivery recorded the acknowledgement once, by the lawyer, with the address and browser; the report's next version holds it
    # as a receipt of the firm's attempt, and the document's opening with its address and browser.
    prefix = stack.env["SONGDA_TOPIC_PREFIX"]
    records = await read_topic(kafka, TopicNames(prefix).physical(DELIVERY_EVENTS), expect=1)
    envelopes = [json.loads(r.value) for r in records if r.key == notice_id.encode()]
    [ack] = [e for e in envelopes if e["type"] == "delivery.DocumentsAcknowledged"]
    assert (ack["data"]["by"], ack["data"]["ip"], ack["data"]["user_agent"], ack["data"]["attempt_id"]) == ("lawyer-browser", "127.0.0.1", browser, attempt_id)

    async def acknowledged_in_the_report() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{stack.stack.url('evidence')}/v1/reports/{notice_id}", headers=COURT)
        if answer.status_code != 200:
            return None
        [recipient] = answer.json()["recipients"]
        receipts = [e["ref"] for a in recipient["attempts"] if a["attempt_id"] == attempt_id for e in a["evidence"]]
        return recipient if ack["id"] in receipts else None

    recipient = await eventually(acknowledged_in_the_report, timeout=90, interval=1.0, what="a report version with the acknowledgement")
    openings = [(o["attempt_id"], o["title"], o["ip"], o["user_agent"]) for o in recipient.get("openings", [])]
    assert (attempt_id, "起诉状副本", "127.0.0.1", browser) in openings
    # The report's electronic service certificate (OLR Art. 31): the acknowledgement with its time, address, browser and lawyer.
    certificate = [
        (a["attempt_id"], a["ip"], a["user_agent"], a["by"], datetime.fromisoformat(a["at"]) == datetime.fromisoformat(ack["data"]["at"]))
        for a in recipient.get("acknowledgements", [])
    ]
    assert certificate == [(attempt_id, "127.0.0.1", browser, "lawyer-browser", True)]
