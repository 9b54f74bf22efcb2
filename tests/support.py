"""Helpers tests share: where the infrastructure is, settings for a test stack, polling with a deadline, a scaled stack's "now"."""

from __future__ import annotations

import asyncio
import copy
import functools
import io
import json
import os
import random
import socket
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI

from services.delivery.policy import DEFAULT_FILE as DELIVERY_POLICY
from services.intake import notices
from services.intake.domain import rank_addresses
from services.intake.resolution import Resolution
from shared.contracts.events import CandidateAddress, Consent, EDeliveryChannel, MatchMethod, NoticeRegistered, PartyMatch, Provenance, Recipient
from shared.contracts.registry import Event
from shared.contracts.values import Phone, resident_id_check_char
from shared.plumbing.auth import Role, mint
from shared.plumbing.clock import SHANGHAI, ScaledClock, local_date
from shared.plumbing.pdf import html_to_pdf
from shared.plumbing.settings import CommonSettings, Environment, ServiceSettings

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
# The README's example notice; its documents are the PDFs beside it, which a court uploads first (`upload_examples`).
EXAMPLE_NOTICE = json.loads((EXAMPLES / "notice.json").read_text())
KAFKA = os.environ.get("SONGDA_TEST_KAFKA", "127.0.0.1:9092")
POSTGRES = os.environ.get("SONGDA_TEST_POSTGRES", "postgresql://songda:songda@127.0.0.1:55432/postgres")
SECRET = "songda-test-secret-at-least-32-characters-long"
# Real seconds a wait for domain time allows beyond the domain time itself, for the work on a loaded machine.
WORK_SLACK_S = 60.0

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")


class Clock:
    """A clock that stands still until a test moves it (by hand, or by what the code under test sleeps)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def pg_url(database: str) -> str:
    """Returns the URL of another database on the test server."""
    parts = urlsplit(POSTGRES)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def common(*, kafka: str, prefix: str, **overrides: Any) -> CommonSettings:
    """Returns shared settings for a test stack on its own topics."""
    return CommonSettings(env=Environment.test, kafka_bootstrap=kafka, topic_prefix=prefix, jwt_secret=SECRET, **overrides)


def settings(cls: type[S], *, database_url: str, kafka: str, prefix: str, **overrides: Any) -> S:
    """Returns a service's settings for a test stack."""
    return cls(database_url=database_url, relay_poll_ms=50, common=common(kafka=kafka, prefix=prefix), **overrides)


def stack_env(*, kafka: str, prefix: str) -> dict[str, str]:
    """Returns the environment for service processes of a test stack."""
    return {
        "SONGDA_ENV": "test",
        "SONGDA_KAFKA_BOOTSTRAP": kafka,
        "SONGDA_TOPIC_PREFIX": prefix,
        "SONGDA_JWT_SECRET": SECRET,
        "SONGDA_LOG_LEVEL": "INFO",
    }


def token(role: Role, sub: str) -> dict[str, str]:
    """Returns an Authorization header for a test token."""
    return {"Authorization": f"Bearer {mint(secret=SECRET, role=role, sub=sub, issuer='songda', now=datetime.now(UTC))}"}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs an app's lifespan (relay, consumer) and yields an HTTP client talking to it in-process."""
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 30.0, what: str = "condition", interval: float = 0.1) -> T:
    """Polls `check` until it returns a truthy value; fails with `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last value: {last!r}")


def real_seconds(clock: ScaledClock, span: timedelta) -> float:
    """Returns how many real seconds `span` of domain time takes on `clock`."""
    return max(span.total_seconds(), 0.0) / clock.scale


async def until(clock: ScaledClock, moment: datetime, *, what: str) -> datetime:
    """Waits until the domain time on `clock` reaches `moment`, with a deadline that grows with the domain time to wait; returns "now"."""

    async def reached() -> datetime | None:
        now = clock.now()
        return now if now >= moment else None

    timeout = real_seconds(clock, moment - clock.now()) + WORK_SLACK_S
    return await eventually(reached, timeout=timeout, interval=min(1.0, max(0.05, timeout / 100)), what=what)


async def read_topic(kafka: str, topic: str, *, expect: int, timeout: float = 30.0, settle: float = 1.0) -> list[ConsumerRecord]:
    """Reads a topic from the beginning until `expect` records arrived, then `settle` more seconds for extras."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expect and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        settle_until = time.monotonic() + settle
        while time.monotonic() < settle_until:
            for batch in (await consumer.getmany(timeout_ms=100)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def resident_id(rng: random.Random) -> str:
    """Returns a valid resident ID number (Weihai region, born 1960-1999)."""
    first17 = f"371002{rng.randint(1960, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first17 + resident_id_check_char(first17)


def notice_payload(index: int, *, court_id: str = "C371002", seed: int = 0) -> dict[str, Any]:
    """Returns a valid notice like the DESIGN.md example, unique by `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    payload = json.loads(json.dumps(EXAMPLE_NOTICE))
    payload["court_id"] = court_id
    payload["court_reference"] = f"T-{seed}-{index:06d}"
    payload["case_number"] = f"（2026）鲁1002民初{index % 9999 + 1:04d}号"
    recipient = payload["recipients"][0]
    recipient["id_number"] = resident_id(rng)
    recipient["phones"] = [f"139{rng.randint(0, 99_999_999):08d}"]
    return payload


@functools.cache
def sample_pdf(pages: int = 1, text: str = "起诉状副本") -> bytes:
    """Returns a small real PDF with the Chinese text on each of its pages, rendered once per arguments (the same bytes for the whole run)."""
    sheets = "".join(f'<section style="break-before: {"page" if n else "auto"}"><h1>{text}</h1><p>第{n + 1}页，共{pages}页</p></section>' for n in range(pages))
    return html_to_pdf(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><body>{sheets}</body></html>', base_url=".")


OFD_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">
  <ofd:DocBody><ofd:DocInfo><ofd:DocID>{doc_id}</ofd:DocID><ofd:Title>传票</ofd:Title></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody>
</ofd:OFD>"""
DOCUMENT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">
  <ofd:CommonData><ofd:MaxUnitID>10</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>
  <ofd:Pages>{pages}</ofd:Pages>
</ofd:Document>"""
CONTENT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2"/></ofd:Content></ofd:Page>"""


def sample_ofd(pages: int = 1, *, doc_id: str = "songda-test", with_ofd_xml: bool = True) -> bytes:
    """Returns a minimal OFD package (GB/T 33190-2016): OFD.xml naming Doc_0/Document.xml, which lists the pages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if with_ofd_xml:
            archive.writestr("OFD.xml", OFD_XML.format(doc_id=doc_id))
        page_list = "".join(f'<ofd:Page ID="{n + 3}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(pages))
        archive.writestr("Doc_0/Document.xml", DOCUMENT_XML.format(pages=page_list))
        for n in range(pages):
            archive.writestr(f"Doc_0/Pages/Page_{n}/Content.xml", CONTENT_XML)
    return buffer.getvalue()


async def upload_document(
    client: httpx.AsyncClient, intake: str, *, headers: dict[str, str], data: bytes | None = None, filename: str = "起诉状副本.pdf", court_id: str | None = None
) -> dict[str, Any]:
    """Uploads a document (the sample PDF by default) to intake's store for the caller's court (a service names the court); returns intake's answer."""
    form = {"court_id": court_id} if court_id else None
    uploaded = await client.post(f"{intake}/v1/documents", files={"file": (filename, sample_pdf() if data is None else data, "application/pdf")}, data=form, headers=headers)
    assert uploaded.status_code in (200, 201), uploaded.text
    return dict(uploaded.json())


async def upload_examples(client: httpx.AsyncClient, intake: str, *, headers: dict[str, str], court_id: str = "C371002") -> None:
    """Uploads the example notice's documents (docs/examples/*.pdf) for a court, so that notices built on EXAMPLE_NOTICE name stored files."""
    for document in EXAMPLE_NOTICE["documents"]:
        stored = await upload_document(
            client, intake, headers=headers, data=(EXAMPLES / f"{document['kind']}.pdf").read_bytes(), filename=f"{document['title']}.pdf", court_id=court_id
        )
        assert stored["sha256"] == document["sha256"], f"docs/examples/{document['kind']}.pdf is not the file notice.json names"


def with_documents(notice: dict[str, Any], sha256: str) -> dict[str, Any]:
    """Returns a copy of a notice whose every document is the stored file `sha256` (its page count left to the file)."""
    copied = copy.deepcopy(notice)
    copied["documents"] = [{"title": d["title"], "kind": d["kind"], "sha256": sha256} for d in notice["documents"]]
    return copied


async def attach_documents(client: httpx.AsyncClient, intake: str, notice: dict[str, Any], *, headers: dict[str, str]) -> dict[str, Any]:
    """Uploads the sample PDF for the notice's court and returns a copy of the notice whose documents are that file."""
    stored = await upload_document(client, intake, headers=headers, court_id=notice["court_id"])
    return with_documents(notice, stored["sha256"])


def address_confirmation(person: dict[str, Any], *, case_number: str, phone: str, consent: bool) -> dict[str, Any]:
    """Returns a recipient's address confirmation in a case at their first address, consenting to SMS service (CPL 90) or not."""
    return {
        "case_number": case_number,
        "stage": "first_instance",
        "party": {k: person[k] for k in ("name", "kind", "id_type", "id_number")},
        "address": {k: person["addresses"][0][k] for k in ("text", "postcode")},
        "phone": phone,
        "e_delivery": {"consent": consent, "channels": [{"channel": "sms", "address": phone}] if consent else []},
        "confirmed_at": "2026-11-20",
    }


async def submit_with_consent(client: httpx.AsyncClient, intake: str, *, phone: str, consent: bool) -> tuple[str, str]:
    """Confirms a new party's address (with SMS consent or without) and submits a notice to them in the same case; returns the notice and recipient ids."""
    person = json.loads(json.dumps(EXAMPLE_NOTICE["recipients"][0]))
    person.update(id_number=resident_id(random.Random()), phones=[phone], emails=[])
    case_number = f"（2026）鲁1002民初{random.randrange(1000, 10000)}号"
    court = token(Role.court, "C371002")
    confirmation = address_confirmation(person, case_number=case_number, phone=phone, consent=consent)
    confirmed = await client.post(f"{intake}/v1/address-confirmations", json=confirmation, headers=court)
    assert confirmed.status_code in (200, 201), confirmed.text
    notice = {**EXAMPLE_NOTICE, "court_reference": f"E2E-{random.getrandbits(48):012x}", "case_number": case_number, "recipients": [person]}
    await upload_examples(client, intake, headers=court)
    submitted = await client.post(f"{intake}/v1/notices", json=notice, headers=court)
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    return body["id"], body["recipients"][0]["recipient_id"]


# Below Linux's ephemeral range (32768 on): a port from that range can go to any client's outgoing connection (Kafka,
# PostgreSQL, HTTP) between the check here and the server's bind, and the server then fails with "address in use".
_LISTEN_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """Returns a TCP port nobody listens on right now, never the same twice in a run."""
    while True:
        port = random.choice(_LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


async def committed_offsets(kafka: str, group: str) -> int:
    """Returns the sum of a consumer group's committed offsets over all partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(max(meta.offset, 0) for meta in offsets.values())


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serves an app over real HTTP on 127.0.0.1:`port` (for callers that are other processes or simulators); yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        await eventually(lambda: _started(server, task), what=f"the app on port {port} to start")
        yield base
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()
        raise RuntimeError("the server stopped while starting")
    return server.started


async def publish(kafka: str, topic: str, events: Sequence[Event], *, subject: str, source: str = "songda/test") -> None:
    """Produces events as another service would: enveloped, keyed by the notice, on the physical topic."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for event in events:
            envelope = event.envelope(source=source, subject=subject, time=datetime.now(UTC), correlationid=subject)
            await producer.send_and_wait(topic, envelope.to_bytes(), key=subject.encode())
    finally:
        await producer.stop()


MOBILE = "+8613800138000"
HOME = "山东省威海市环翠区新威路17号"


def example_document(kind: str) -> dict[str, Any]:
    """Returns one of the example notice's documents as NoticeRegistered carries it (its file is docs/examples/<kind>.pdf)."""
    [document] = [d for d in EXAMPLE_NOTICE["documents"] if d["kind"] == kind]
    return {**document, "size": (EXAMPLES / f"{kind}.pdf").stat().st_size, "content_type": "application/pdf"}


def registered_notice(
    *,
    consent: Sequence[tuple[EDeliveryChannel, str]] = (),
    phones: tuple[str, ...] = (MOBILE,),
    confirmed: bool = False,
    whereabouts_unknown: bool = False,
    registered_at: datetime | None = None,
) -> NoticeRegistered:
    """Returns an intake.NoticeRegistered for one person at HOME, with the given phones and consented channels."""
    notice_id = str(uuid.uuid4())
    return NoticeRegistered(
        notice_id=notice_id,
        court_id="C371002",
        court_name="威海市环翠区人民法院",
        court_reference=f"T-{notice_id[:8]}",
        case_number="（2026）鲁1002民初1234号",
        cause="民间借贷纠纷",
        stage="first_instance",
        documents=[example_document("complaint_copy"), example_document("summons")],
        recipients=[
            Recipient(
                recipient_id=str(uuid.uuid4()),
                name="张三",
                kind="person",
                role="defendant",
                id_type="resident_id",
                id_number="371002198503124210",
                phones=[Phone.parse(p) for p in phones],
                emails=[],
                candidates=[CandidateAddress(text=HOME, rank=1, provenance=[Provenance(kind="confirmation" if confirmed else "filing")], city="威海市", district="环翠区")],
                consent=[Consent(channel=c, address=a, source_case="（2026）鲁1002民初0999号", confirmed_on=date(2026, 6, 1)) for c, a in consent],
                whereabouts_unknown=whereabouts_unknown,
            )
        ],
        due_date=date(2026, 11, 26),
        registered_at=registered_at or datetime.now(UTC),
    )


SHIPPED_CONTACT_HOURS = ('sms = { days = "any", start = "08:00", end = "21:00" }', 'voice = { days = "working", start = "08:30", end = "20:00" }')


def without_contact_hours(directory: Path, *, policy: Path | None = None) -> Path:
    """Writes `policy` (the shipped one by default) with calls and SMS allowed all day (start = end), so a test on the real clock runs the same at any hour."""
    return _with_contact_hours(directory, start="00:00", end="00:00", policy=policy)


def with_calls_and_sms_held(directory: Path, *, now: datetime) -> Path:
    """Writes the shipped policy with calls and SMS allowed only in the first minute of the hour eleven to twelve hours after `now`, so a run that starts now sends none of them."""
    opens = (now.astimezone(SHANGHAI) + timedelta(hours=12)).replace(minute=0, second=0, microsecond=0)
    return _with_contact_hours(directory, start=f"{opens:%H:%M}", end=f"{opens + timedelta(minutes=1):%H:%M}")


def _with_contact_hours(directory: Path, *, start: str, end: str, policy: Path | None = None) -> Path:
    source = policy or DELIVERY_POLICY
    shipped = source.read_text(encoding="utf-8")
    for line in SHIPPED_CONTACT_HOURS:
        assert line in shipped, f"{source} no longer says {line!r}"
        shipped = shipped.replace(line, line.split(" = ")[0] + f' = {{ days = "any", start = "{start}", end = "{end}" }}')
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "policy.toml"
    path.write_text(shipped, encoding="utf-8")
    return path


def ranked_notice(payload: dict[str, Any], *, now: datetime) -> notices.NewNotice:
    """Builds intake's stored notice as registration would with an empty address book: only the notice's own addresses ranked."""
    notice = notices.unresolved_notice(payload, now=now)
    scope, today = notices.case_scope(notice), local_date(now)
    for recipient in notice.notice["recipients"]:
        ranked, expired = rank_addresses(notices.notice_facts(recipient, notice=notice), scope=scope, today=today)
        unmatched = PartyMatch(party_id=None, method=MatchMethod.new, matched_on=[], note="not yet matched against the address book")
        recipient.update(notices.resolved_fields(Resolution(match=unmatched, candidates=ranked, expired=expired)))
    return notice
