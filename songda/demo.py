"""`songda demo`: the whole system on a scaled clock, seeded with a court's day of notices whose outcomes are scripted, and a robot colleague."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from services.console.demo import DEMO_ACCOUNTS
from shared.contracts.events import GeoPoint
from shared.contracts.evidence import EvidenceKind
from shared.contracts.values import resident_id_check_char
from shared.plumbing.auth import Role, mint
from shared.plumbing.clock import SHANGHAI, ScaledClock
from shared.plumbing.settings import DEV_JWT_SECRET
from shared.plumbing.workdays import is_working_day
from simulators import camera
from songda import paperwork

COURT_ID = "C371002"
COURT_NAME = "威海市环翠区人民法院"
# The firm of the console's lawyer-demo account: its standing agreement covers the court.
LAWYER_ACCOUNT = next(a for a in DEMO_ACCOUNTS if a.username == "lawyer-demo")
FIRM_USCC = LAWYER_ACCOUNT.scope
FIRM_NAME = LAWYER_ACCOUNT.display_name
FIRM_MAILBOX = "songda@firm-demo.example.cn"
# The agent a newcomer signs in as; its visits are left for them, every other task is worked by the robot.
YOUR_AGENT = "agent-huancui-1"


@dataclass(frozen=True)
class Party:
    """One recipient of the demo's day and what the simulators and the robot will make of its delivery."""

    name: str
    phone: str
    street: str
    district: str
    location: GeoPoint
    story: str
    # The Twilio simulator's script for the party's phone; None leaves it to the random mix.
    sms: Mapping[str, Any] | None = None
    call: Mapping[str, Any] | None = None
    consent: Literal["sms", "email", "none"] = "none"
    # The EMS simulator's script for court mail to the party.
    mail: Mapping[str, Any] | None = None
    # Whether the party confirmed its address in an earlier case (a return from it is then deemed served).
    confirmed: bool = True
    # Who works the party's visits: the newcomer, or the robot, who finds nobody in.
    visits: Literal["you", "robot"] = "robot"
    # The party's lawyer, of the demo firm: the party is then served through the firm (OLR Art. 29(2)).
    lawyer: str | None = None

    @property
    def address(self) -> str:
        """Returns the full address as a court writes it."""
        return f"山东省威海市{self.district}{self.street}"


NO_ANSWER = {"outcome": "no-answer"}
PARTIES: tuple[Party, ...] = (
    Party(
        "王芳", "+8613906310001", "新威路17号", "环翠区", GeoPoint(lat=37.5091, lon=122.1164), "短信送达成功（电子送达，到达即送达）", sms={"outcome": "delivered"}, consent="sms"
    ),
    Party("李强", "+8613906310002", "统一路88号", "环翠区", GeoPoint(lat=37.5125, lon=122.1203), "电子邮件送达成功", sms={"outcome": "delivered"}, consent="email"),
    Party("陈晨", "+8613906310003", "青岛北路5号", "环翠区", GeoPoint(lat=37.5040, lon=122.1102), "短信送达成功", sms={"outcome": "delivered"}, consent="sms"),
    Party("刘洋", "+8613906310004", "昆明路21号", "环翠区", GeoPoint(lat=37.5011, lon=122.1059), "短信送达成功", sms={"outcome": "delivered"}, consent="sms"),
    Party(
        "赵敏",
        "+8613906310005",
        "古寨东路140号",
        "环翠区",
        GeoPoint(lat=37.4968, lon=122.1291),
        "短信未送达、电话未接通 → 上门送达（由您处理）",
        sms={"outcome": "undelivered", "error_code": 30006},
        call=NO_ANSWER,
        consent="sms",
        visits="you",
    ),
    Party(
        "孙伟",
        "+8613906310006",
        "文化西路56号",
        "环翠区",
        GeoPoint(lat=37.5150, lon=122.0950),
        "短信发送失败、电话未接通 → 上门送达（由您处理）",
        sms={"outcome": "failed", "error_code": 30008},
        call=NO_ANSWER,
        consent="sms",
        visits="you",
    ),
    Party(
        "周杰",
        "+8613906310007",
        "龙山路12号",
        "文登区",
        GeoPoint(lat=37.1937, lon=122.0577),
        "电话未接通、上门未遇 → 法院专递妥投",
        call=NO_ANSWER,
        mail={"outcome": "delivered", "signer": "family", "signer_name": "周丽"},
    ),
    Party(
        "吴刚", "+8613906310008", "峰山路3号", "文登区", GeoPoint(lat=37.2001, lon=122.0488), "上门未遇 → 法院专递被拒收（视为送达）", call=NO_ANSWER, mail={"outcome": "refused"}
    ),
    Party(
        "郑丽",
        "+8613906310009",
        "米山路77号",
        "文登区",
        GeoPoint(lat=37.1862, lon=122.0710),
        "上门未遇 → 法院专递退回（地址未确认）→ 张贴公告，拍照留证",
        call=NO_ANSWER,
        mail={"outcome": "returned", "reason": "unclaimed"},
        confirmed=False,
    ),
    Party(
        "钱进",
        "+8613906310010",
        "世昌大道66号",
        "环翠区",
        GeoPoint(lat=37.5172, lon=122.1345),
        f"由{FIRM_NAME}律师代理 → 经律所电子送达成功（lawyer-demo 账户的律所收件箱可查看、签收）",
        call=NO_ANSWER,
        lawyer="孙律师",
    ),
)


@dataclass
class Demo:
    """A running demo's addresses, clock and tokens, the tasks the robot already handled and the notices already announced."""

    urls: Mapping[str, str]
    clock: ScaledClock
    secret: str = DEV_JWT_SECRET
    issuer: str = "songda"
    done: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)

    def headers(self, role: Role, sub: str) -> dict[str, str]:
        """Returns a bearer header for a short-lived token."""
        token = mint(secret=self.secret, role=role, sub=sub, issuer=self.issuer, now=datetime.now(UTC), ttl=timedelta(minutes=10))
        return {"Authorization": f"Bearer {token}"}


def next_morning(now: datetime) -> datetime:
    """Returns 08:30 Beijing time on the next working day after `now`, where the demo's domain clock starts."""
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(8, 30), tzinfo=SHANGHAI).astimezone(UTC)


def demo_environment(var_dir: Path, clock: ScaledClock, *, prefix: str) -> dict[str, str]:
    """Returns the environment every demo process shares: its own data folder and topics, and the scaled clock."""
    return {"SONGDA_VAR_DIR": str(var_dir), "SONGDA_TOPIC_PREFIX": prefix, **clock.environment()}


def fresh_folder(var_dir: Path) -> Path:
    """Empties the demo's data folder, so every demo starts from the same morning."""
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    return var_dir


def _id_number(rng: random.Random) -> str:
    first17 = f"371002{rng.randint(1960, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first17 + resident_id_check_char(first17)


def _person(party: Party, rng: random.Random) -> dict[str, Any]:
    emails = [f"{party.phone[-4:]}@example.com"] if party.consent == "email" else []
    return {
        "name": party.name,
        "kind": "person",
        "role": "defendant",
        "id_type": "resident_id",
        "id_number": _id_number(rng),
        "phones": [party.phone],
        "emails": emails,
        "addresses": [{"text": party.address, "postcode": "264200", "source": "filing", "location": party.location.model_dump()}],
        "lawyer": {"name": party.lawyer, "firm": FIRM_NAME, "firm_uscc": FIRM_USCC} if party.lawyer else None,
        "whereabouts_unknown": False,
    }


def _confirmation(party: Party, person: dict[str, Any], *, case_number: str, demo_day: date) -> dict[str, Any]:
    channels = {"sms": [{"channel": "sms", "address": party.phone}], "email": [{"channel": "email", "address": person["emails"][0] if person["emails"] else ""}], "none": []}
    return {
        "case_number": case_number,
        "stage": "first_instance",
        "party": {k: person[k] for k in ("name", "kind", "id_type", "id_number")},
        "address": {"text": party.address, "postcode": "264200", "location": party.location.model_dump()},
        "phone": party.phone,
        "e_delivery": {"consent": party.consent != "none", "channels": channels[party.consent]},
        "confirmed_at": (demo_day - timedelta(days=7)).isoformat(),
    }


async def seed(client: httpx.AsyncClient, demo: Demo, *, parties: tuple[Party, ...] = PARTIES) -> list[str]:
    """Scripts the simulators for each party, records earlier confirmations and submits the day's notices; returns their ids."""
    rng = random.Random(2026)
    court = demo.headers(Role.court, COURT_ID)
    if any(p.lawyer for p in parties):
        await register_firm(client, demo)
    notices = []
    for number, party in enumerate(parties, start=1):
        twilio = {k: v for k, v in (("sms", party.sms), ("call", party.call)) if v is not None}
        if twilio:
            await _ok(await client.post(f"{demo.urls['twilio_sim']}/sim/script", json={"number": party.phone, **twilio}))
        if party.mail is not None:
            await _ok(await client.post(f"{demo.urls['ems_sim']}/sim/script", json={"phone": party.phone, "delivery": party.mail, "clean": True}))
        person = _person(party, rng)
        case_number = f"（{demo.clock.now().astimezone(SHANGHAI).year}）鲁1002民初{3100 + number}号"
        if party.confirmed:
            # The party confirmed its address, and its consent to e-service, at the case's filing (送达地址确认书).
            await _ok(
                await client.post(
                    f"{demo.urls['intake']}/v1/address-confirmations",
                    json=_confirmation(party, person, case_number=case_number, demo_day=demo.clock.now().astimezone(SHANGHAI).date()),
                    headers=court,
                )
            )
        cause = rng.choice(["民间借贷纠纷", "买卖合同纠纷", "物业服务合同纠纷", "租赁合同纠纷"])
        notice = {
            "court_reference": f"DEMO-{uuid.uuid4().hex[:10]}",
            "court_id": COURT_ID,
            "court_name": COURT_NAME,
            "case_number": case_number,
            "cause": cause,
            "stage": "first_instance",
            "documents": await _upload_papers(client, demo, case_number=case_number, cause=cause, defendant=party.name, headers=court),
            "recipients": [person],
        }
        response = await client.post(f"{demo.urls['intake']}/v1/notices", json=notice, headers=court)
        await _ok(response)
        notices.append(response.json()["id"])
    return notices


async def register_firm(client: httpx.AsyncClient, demo: Demo) -> None:
    """Files the demo firm's signed agreement as evidence and registers the firm with intake, covering the court over the demo's day."""
    supervisor = demo.headers(Role.supervisor, "demo-robot")
    agreement = paperwork.Paper(
        "电子送达协议",
        "firm_agreement",
        (
            f"甲方：{COURT_NAME}　乙方：{FIRM_NAME}（统一社会信用代码 {FIRM_USCC}）",
            f"乙方律师代理的案件，甲方的诉讼文书可向乙方电子送达邮箱 {FIRM_MAILBOX} 及乙方收件箱送达，到达即为送达。",
            "依据《人民法院在线诉讼规则》第二十九条第二款订立。",
        ),
    )
    data = await asyncio.to_thread(paperwork.render, agreement, court_name=COURT_NAME)
    metadata = {"notice_id": f"firm:{FIRM_USCC}", "kind": EvidenceKind.firm_agreement.value, "details": {"title": agreement.title}}
    files: dict[str, tuple[str | None, str | bytes, str]] = {"metadata": (None, json.dumps(metadata), "application/json"), "file": ("电子送达协议.pdf", data, "application/pdf")}
    filed = await client.post(f"{demo.urls['evidence']}/v1/evidence", files=files, headers={**supervisor, "Idempotency-Key": f"firm-agreement:{FIRM_USCC}"})
    await _ok(filed)
    day = demo.clock.now().astimezone(SHANGHAI).date()
    entry = {
        "name": FIRM_NAME,
        "email": FIRM_MAILBOX,
        "inbox": True,
        "agreement": {"evidence_id": filed.json()["id"], "sha256": filed.json()["sha256"]},
        "court_ids": [COURT_ID],
        "valid_from": (day - timedelta(days=30)).isoformat(),
        "valid_to": (day + timedelta(days=335)).isoformat(),
    }
    await _ok(await client.put(f"{demo.urls['intake']}/v1/firms/{FIRM_USCC}", json=entry, headers=supervisor))


async def _upload_papers(client: httpx.AsyncClient, demo: Demo, *, case_number: str, cause: str, defendant: str, headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """Renders the case's 起诉状副本, 应诉通知书 and 传票 as PDFs, uploads them to intake and returns them as the notice names them."""
    documents = []
    for paper in paperwork.papers(court_name=COURT_NAME, case_number=case_number, cause=cause, defendant=defendant):
        # Rendering takes a quarter of a second of CPU; the loop keeps serving the demo's other calls meanwhile.
        data = await asyncio.to_thread(paperwork.render, paper, court_name=COURT_NAME)
        response = await client.post(f"{demo.urls['intake']}/v1/documents", files={"file": (f"{paper.title}.pdf", data, "application/pdf")}, headers=dict(headers))
        await _ok(response)
        documents.append({"title": paper.title, "kind": paper.kind, "sha256": response.json()["sha256"]})
    return documents


async def _ok(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"demo: {response.request.method} {response.request.url.path} answered {response.status_code}: {response.text[:500]}")


async def robot_round(client: httpx.AsyncClient, demo: Demo, *, parties: tuple[Party, ...] = PARTIES) -> list[str]:
    """Works the open tasks once as the newcomer's colleague: hands the newcomer theirs, finds nobody in on the rest, posts notices; returns what it did."""
    supervisor = demo.headers(Role.supervisor, "demo-robot")
    by_name = {p.name: p for p in parties}
    answer = await client.get(f"{demo.urls['delivery']}/v1/tasks", headers=supervisor)
    await _ok(answer)
    did = []
    now = demo.clock.now()
    for task in answer.json():
        party = by_name.get(task["recipient_name"])
        if party is None or task["task_id"] in demo.done or datetime.fromisoformat(task["window_start"]) > now:
            continue
        if party.visits == "you" and task["kind"] == "visit":
            if task.get("agent_id", YOUR_AGENT) != YOUR_AGENT:
                reason = {"agent_id": YOUR_AGENT, "reason": "演示：交由您处理"}
                await _ok(await client.post(f"{demo.urls['delivery']}/v1/tasks/{task['task_id']}/reassign", json=reason, headers=supervisor))
                did.append(f"{party.name}：上门任务已分派给您")
            demo.done.add(task["task_id"])
            continue
        if task["kind"] == "posting":
            evidence_id = await _photograph(client, demo, task, party, supervisor)
            report = {"outcome": "posted", "evidence_ids": [evidence_id]}
            did.append(f"{party.name}：已张贴公告并拍照")
        else:
            report = {"outcome": "not_found", "note": "演示：上门未遇"}
            did.append(f"{party.name}：上门未遇")
        headers = {**supervisor, "Idempotency-Key": task["task_id"]}
        await _ok(await client.post(f"{demo.urls['delivery']}/v1/tasks/{task['task_id']}/outcome", json=report, headers=headers))
        demo.done.add(task["task_id"])
    return did


async def _photograph(client: httpx.AsyncClient, demo: Demo, task: Mapping[str, Any], party: Party, headers: Mapping[str, str]) -> str:
    """Takes the posting's photo at the address, now, and uploads it; returns the evidence id."""
    taken = demo.clock.now().replace(microsecond=0)
    metadata = {"notice_id": task["notice_id"], "kind": "photo", "scene": "posting", "task_id": task["task_id"], "captured_at": taken.isoformat()}
    photo = camera.jpeg(location=party.location, taken_at=taken)
    files: dict[str, tuple[str | None, str | bytes, str]] = {"metadata": (None, json.dumps(metadata), "application/json"), "file": ("posting.jpg", photo, "image/jpeg")}
    response = await client.post(f"{demo.urls['evidence']}/v1/evidence", files=files, headers={**headers, "Idempotency-Key": f"posting-{task['task_id']}"})
    await _ok(response)
    return str(response.json()["id"])


def story(parties: tuple[Party, ...] = PARTIES) -> str:
    """Returns what the newcomer will watch happen, one line per party."""
    return "\n".join(f"  {p.name}（{p.address}）：{p.story}" for p in parties)


def day_label(clock: ScaledClock) -> str:
    """Returns the demo's current domain time, Beijing, for the progress line."""
    now = clock.now().astimezone(SHANGHAI)
    weekday = "一二三四五六日"[now.weekday()]
    return f"{now:%Y-%m-%d} 星期{weekday} {now:%H:%M}"


async def play(demo: Demo, *, stopping: asyncio.Event, say: Callable[[str], None] = print, interval: float = 2.0) -> None:
    """Seeds the day, then every `interval` seconds works the robot's tasks and announces served notices, until `stopping` is set."""
    async with httpx.AsyncClient(timeout=30) as client:
        notices = await seed(client, demo)
        say(f"[{day_label(demo.clock)}] 法院已提交 {len(notices)} 件送达通知，送达开始。")
        while not stopping.is_set():
            for line in await robot_round(client, demo):
                say(f"[{day_label(demo.clock)}] 同事（机器人）：{line}")
            for line in await newly_completed(client, demo):
                say(f"[{day_label(demo.clock)}] {line}")
            try:
                await asyncio.wait_for(stopping.wait(), timeout=interval)
            except TimeoutError:
                pass


async def newly_completed(client: httpx.AsyncClient, demo: Demo) -> list[str]:
    """Returns a line for each notice served since the last call, with its page in the console (progress, evidence, report)."""
    answer = await client.get(f"{demo.urls['delivery']}/v1/notices", params={"status": "completed", "limit": 100}, headers=demo.headers(Role.supervisor, "demo-robot"))
    await _ok(answer)
    lines = []
    for row in answer.json()["items"]:
        if row["notice_id"] in demo.completed:
            continue
        demo.completed.add(row["notice_id"])
        names = "、".join(r["name"] for r in row["recipients"])
        lines.append(f"{row['case_number']}（{names}）送达完毕；送达进展、证据和送达报告：{demo.urls['console']}/notices/{row['notice_id']}")
    return lines
