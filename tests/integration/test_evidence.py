"""Evidence on PostgreSQL and Kafka: uploads checked and logged, proofs that verify, reports issued, verified offline, reissued and pushed to the court."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from shared.contracts import checkpoints, merkle
from shared.contracts.events import GeoPoint
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, DELIVERY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS, TopicNames
from shared.plumbing.auth import Role
from shared.plumbing.db import Database
from simulators import camera
from songda.verify import verify_report
from tests import histories
from tests.reports import english_words
from tests.support import EXAMPLES, eventually, free_port, publish, read_topic, running, serving, settings, token

COURT = token(Role.court, histories.COURT)
AGENT = token(Role.agent, "agent-7")
# Waits on any court's notice.
OVERSEER = token(Role.service, "evidence-tests")
TOPICS = {"intake": INTAKE_EVENTS, "delivery": DELIVERY_EVENTS, "carrier_gateway": CARRIER_GATEWAY_EVENTS}
NEAR = GeoPoint(lat=histories.HOME.lat + 0.0003, lon=histories.HOME.lon)  # about 33 m north
FAR = GeoPoint(lat=histories.HOME.lat + 0.02, lon=histories.HOME.lon)  # about 2.2 km north
IN_WINDOW = histories.START + timedelta(days=1, hours=1)


class Evidence:
    """The evidence service running, with its client, database, blob directory and topics."""

    def __init__(self, *, client: httpx.AsyncClient, db: Database, blobs: Path, kafka: str, names: TopicNames) -> None:
        self.client, self.db, self.blobs, self.kafka, self.names = client, db, blobs, kafka, names

    async def play(self, history: histories.History, *, holding: frozenset[str] = frozenset({"NoticeCompleted"})) -> None:
        """Publishes the history (all but the held event types) and waits until evidence logged every event."""
        shown = [(s, e) for s, e in history.events if type(e).__name__ not in holding]
        for source, event in shown:
            await publish(self.kafka, self.names.physical(TOPICS[source]), [event], subject=history.notice_id, source=f"songda/{source}")
        await self.logged(history.notice_id, len(shown))

    async def finish(self, history: histories.History) -> None:
        """Publishes the held NoticeCompleted."""
        [completed] = [e for _, e in history.events if type(e).__name__ == "NoticeCompleted"]
        await publish(self.kafka, self.names.physical(DELIVERY_EVENTS), [completed], subject=history.notice_id, source="songda/delivery")

    async def logged(self, notice_id: str, count: int) -> None:
        """Waits until the notice's timeline has `count` entries."""

        async def enough() -> bool:
            response = await self.client.get(f"/v1/notices/{notice_id}/timeline", headers=OVERSEER)
            return response.status_code == 200 and len(response.json()["entries"]) >= count

        await eventually(enough, what=f"{count} events logged for the notice")

    async def upload(self, meta: dict[str, Any], content: bytes | None, *, headers: dict[str, str] = AGENT, name: str = "photo.jpg") -> httpx.Response:
        """Posts one item as multipart."""
        files: dict[str, Any] = {"metadata": (None, json.dumps(meta), "application/json")}
        if content is not None:
            files["file"] = (name, content, "application/octet-stream")
        return await self.client.post("/v1/evidence", files=files, headers=headers)

    async def count(self, table: str) -> int:
        """Counts a table's rows."""
        async with self.db.sessions() as session:
            return (await session.exec(text(f"SELECT count(*) FROM {table}"))).one()[0]  # type: ignore[call-overload]


@pytest.fixture
async def ev(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Evidence]:
    url = await make_database("evidence")
    config = settings(
        EvidenceSettings,
        database_url=url,
        kafka=kafka,
        prefix=topic_prefix,
        blob_dir=tmp_path / "blobs",
        checkpoint_every_s=0.5,
        max_upload_mb=0.25,
        push_backoff_s=0.05,
        push_backoff_max_s=0.2,
        push_poll_ms=50,
        render_poll_ms=50,
        webhook_require_https=False,
        webhook_allowed_networks=["127.0.0.1/32"],
    )
    db = Database(url)
    try:
        async with running(create_evidence(config)) as client:
            yield Evidence(client=client, db=db, blobs=tmp_path / "blobs", kafka=kafka, names=TopicNames(topic_prefix))
    finally:
        await db.dispose()


def photo_meta(history: histories.History, task_id: str, **extra: Any) -> dict[str, Any]:
    """Returns the metadata of a photo taken on a visit task."""
    return {"notice_id": history.notice_id, "kind": "photo", "scene": "visit", "task_id": task_id, "captured_at": IN_WINDOW.isoformat(), **extra}


def task_of(history: histories.History) -> str:
    """Returns the history's visit task id."""
    return next(e.task_id for _, e in history.events if type(e).__name__ == "TaskAssigned")  # type: ignore[attr-defined]


async def test_uploads_are_checked_logged_and_proved(ev: Evidence) -> None:
    history = histories.direct(histories.registered())
    # The visit's attempt has not ended yet: its agent may still add evidence.
    await ev.play(history, holding=frozenset({"AttemptSucceeded", "RecipientServed", "NoticeCompleted"}))
    task = task_of(history)

    near = await ev.upload(photo_meta(history, task), camera.jpeg(location=NEAR, taken_at=IN_WINDOW))
    assert near.status_code == 201, near.text
    assert near.json()["flags"] == [] and near.json()["attempt_id"] is not None
    far = await ev.upload(photo_meta(history, task), camera.jpeg(location=FAR, taken_at=IN_WINDOW))
    assert far.json()["flags"] == ["far_from_address"]
    stripped = await ev.upload(photo_meta(history, task), camera.jpeg(exif=False))
    assert "exif_stripped" in stripped.json()["flags"]
    late = await ev.upload(photo_meta(history, task), camera.jpeg(location=NEAR, taken_at=IN_WINDOW + timedelta(days=3)))
    assert "time_mismatch" in late.json()["flags"]

    # Delivery hears of every item with its flags.
    records = await read_topic(ev.kafka, ev.names.physical(EVIDENCE_EVENTS), expect=4)
    recorded = {r["data"]["evidence_id"]: r["data"]["flags"] for r in (json.loads(x.value) for x in records) if r["type"] == "evidence.EvidenceRecorded"}
    assert recorded[far.json()["id"]] == ["far_from_address"] and recorded[near.json()["id"]] == []

    # Bad uploads are refused with the field named, and write nothing.
    before = (await ev.count("evidence_item"), await ev.count("evidence_log_entry"), sorted(p.name for p in ev.blobs.rglob("*") if p.is_file()))
    missing_kind = await ev.upload({"notice_id": history.notice_id, "task_id": task}, camera.jpeg())
    assert missing_kind.status_code == 422 and missing_kind.headers["content-type"] == "application/problem+json"
    assert "metadata.kind" in missing_kind.text
    not_a_photo = await ev.upload(photo_meta(history, task), b"%PDF-1.7\n" + b"0" * 200, name="photo.jpg")
    assert not_a_photo.status_code == 415 and "application/pdf" in not_a_photo.json()["detail"]
    too_big = await ev.upload(photo_meta(history, task), camera.jpeg() + b"\0" * 300_000)
    assert too_big.status_code == 413 and too_big.json()["detail"].startswith("file:")
    someone_else = await ev.upload(photo_meta(history, task), camera.jpeg(), headers=token(Role.agent, "agent-8"))
    assert someone_else.status_code == 403
    no_scene = await ev.upload({"notice_id": history.notice_id, "kind": "photo", "task_id": task}, camera.jpeg())
    assert no_scene.status_code == 422 and no_scene.json()["detail"].startswith("scene:")
    after = (await ev.count("evidence_item"), await ev.count("evidence_log_entry"), sorted(p.name for p in ev.blobs.rglob("*") if p.is_file()))
    assert after == before

    # A retried upload with the same key answers the item already recorded.
    keyed = {**AGENT, "Idempotency-Key": "upload-1"}
    first = await ev.upload(photo_meta(history, task), camera.jpeg(location=NEAR, taken_at=IN_WINDOW), headers=keyed)
    again = await ev.upload(photo_meta(history, task), camera.jpeg(location=NEAR, taken_at=IN_WINDOW), headers=keyed)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    # The key is the caller's own: another uploader using it records its own item and never sees the first.
    theirs = await ev.upload(photo_meta(history, task), camera.jpeg(location=FAR, taken_at=IN_WINDOW), headers={**token(Role.supervisor, "S-1"), "Idempotency-Key": "upload-1"})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    # Another agent's key is checked only after the task: it is refused, not answered with the item.
    assert (await ev.upload(photo_meta(history, task), camera.jpeg(), headers={**token(Role.agent, "agent-8"), "Idempotency-Key": "upload-1"})).status_code == 403

    # Reads: the record, the bytes by sha256, each read audited; another court sees nothing.
    item = near.json()
    assert (await ev.client.get(f"/v1/evidence/{item['id']}", headers=COURT)).json()["sha256"] == item["sha256"]
    body = (await ev.client.get(item["content_url"], headers=COURT)).content
    assert hashlib.sha256(body).hexdigest() == item["sha256"]
    assert (await ev.client.get(f"/v1/evidence/{item['id']}", headers=token(Role.court, "C999999"))).status_code == 404
    assert await ev.count("audit_entry") == 2
    # The uploader reads its item while the task is open; once the attempt ended, no more.
    assert (await ev.client.get(f"/v1/evidence/{item['id']}", headers=AGENT)).status_code == 200
    served = [e for _, e in history.events if type(e).__name__ == "AttemptSucceeded"]
    await publish(ev.kafka, ev.names.physical(DELIVERY_EVENTS), served, subject=history.notice_id, source="songda/delivery")

    async def task_over() -> bool:
        return (await ev.client.get(f"/v1/evidence/{item['id']}", headers=AGENT)).status_code == 404

    await eventually(task_over, what="the agent to lose the item with its task")
    assert (await ev.upload(photo_meta(history, task), camera.jpeg())).status_code == 403

    # The item's proof leads to a signed checkpoint's root.
    async def checkpoint() -> dict[str, Any] | None:
        response = await ev.client.get("/v1/log/checkpoint", headers=COURT)
        return response.json() if response.status_code == 200 and response.json()["size"] > item["leaf_index"] else None

    cp = await eventually(checkpoint, what="a checkpoint covering the item")
    # The proof to that checkpoint: the timeline entries of the AttemptSucceeded above may have signed a newer one since.
    proof = (await ev.client.get(item["proof_url"], params={"size": cp["size"]}, headers=COURT)).json()
    assert proof["tree_size"] == cp["size"]
    leaf = merkle.leaf_hash(proof["entry"].encode())
    assert merkle.verify_inclusion(leaf, item["leaf_index"], cp["size"], [bytes.fromhex(p) for p in proof["path"]], bytes.fromhex(cp["root"]))
    assert json.loads(proof["entry"])["sha256"] == item["sha256"]
    signed = checkpoints.verify(
        base64.b64decode(cp["public_key"]),
        base64.b64decode(cp["signature"]),
        origin=cp["origin"],
        size=cp["size"],
        root=bytes.fromhex(cp["root"]),
        issued_at=datetime.fromisoformat(cp["issued_at"]),
    )
    assert signed and cp["note"].startswith(f"{cp['origin']}\n{cp['size']}\n")

    # The log only grows: an older size is a prefix of the current one.
    size = await ev.count("evidence_log_entry")
    consistency = (await ev.client.get(f"/v1/log/consistency?first=3&second={size}", headers=COURT)).json()
    path = [bytes.fromhex(p) for p in consistency["path"]]
    assert merkle.verify_consistency(3, size, bytes.fromhex(consistency["first_root"]), bytes.fromhex(consistency["second_root"]), path)


class Court:
    """A court's webhook receiver that fails its first two deliveries, then keeps each (report, version) once."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.kept: dict[str, bytes] = {}
        self.app = FastAPI()

        @self.app.post("/reports")
        async def receive(request: Request) -> Response:
            body = await request.body()
            self.calls.append((dict(request.headers), body))
            if len(self.calls) <= 2:
                return Response(status_code=503)
            self.kept.setdefault(request.headers["idempotency-key"], body)
            return Response(status_code=204)


async def test_a_report_is_issued_verified_reissued_and_pushed(ev: Evidence, tmp_path: Path) -> None:
    court = Court()
    async with AsyncExitStack() as stack:
        base = await stack.enter_async_context(serving(court.app, free_port()))
        registered = await ev.client.put(f"/v1/courts/{histories.COURT}/webhook", json={"url": f"{base}/reports"}, headers=COURT)
        assert registered.status_code == 200
        secret = registered.json()["secret"]
        assert (await ev.client.put("/v1/courts/C999999/webhook", json={"url": f"{base}/reports"}, headers=COURT)).status_code == 404
        # Only the network the operator allowed (here 127.0.0.1/32): other internal addresses are refused (SSRF).
        for internal in ("http://127.0.0.2/reports", "http://10.1.2.3/reports", "http://169.254.169.254/latest/meta-data", "http://[::1]/x"):
            refused = await ev.client.put(f"/v1/courts/{histories.COURT}/webhook", json={"url": internal}, headers=COURT)
            assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "url"), internal
        assert (await ev.client.get(f"/v1/courts/{histories.COURT}/webhook", headers=COURT)).json()["url"] == f"{base}/reports"

        history = histories.postal(histories.registered())
        await ev.play(history)
        attempt = next(e.attempt_id for _, e in history.events if type(e).__name__ == "AttemptStarted")  # type: ignore[attr-defined]
        scan = await ev.upload(
            {"notice_id": history.notice_id, "kind": "return_receipt_scan", "attempt_id": attempt}, camera.png(), headers=token(Role.service, "carrier_gateway"), name="receipt.png"
        )
        assert scan.status_code == 201, scan.text
        assert (await ev.client.get(f"/v1/reports/{history.notice_id}", headers=COURT)).status_code == 404
        await ev.finish(history)

        async def issued(version: int) -> dict[str, Any] | None:
            response = await ev.client.get(f"/v1/reports/{history.notice_id}", headers=COURT)
            return response.json() if response.status_code == 200 and response.json()["version"] >= version else None

        report = await eventually(lambda: issued(1), what="the report")
        recipient = report["recipients"][0]
        assert (recipient["method"], recipient["service_date"], recipient["legal_basis"], recipient["signer_name"]) == ("postal", "2026-11-24", "民事诉讼法第91条", "李四")
        # In log order, and delivery's and the gateway's topics are not ordered with each other.
        kinds = sorted(e["kind"] for e in recipient["attempts"][0]["evidence"])
        assert kinds == ["ems_trace", "ems_trace", "event", "return_receipt_scan"]

        # Offline: the report holds, with the blobs; every kind of tampering is caught.
        assert verify_report(report, blobs=ev.blobs).ok
        _assert_tampering_caught(report, ev.blobs, tmp_path)
        path = tmp_path / "report.json"
        path.write_text(json.dumps(report, ensure_ascii=False))
        cli = subprocess.run([sys.executable, "-m", "songda.cli", "verify", str(path), "--blobs", str(ev.blobs)], capture_output=True, text=True)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        # The files a party was handed: each is named as the document the report lists, and one the report does not list fails the check.
        served = [EXAMPLES / "complaint_copy.pdf", EXAMPLES / "summons.pdf"]
        cli = subprocess.run([sys.executable, "-m", "songda.cli", "verify", str(path), "--document", *map(str, served)], capture_output=True, text=True)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert f"ok    document {served[0]}: listed as 起诉状副本" in cli.stdout and f"ok    document {served[1]}: listed as 传票" in cli.stdout
        stranger = EXAMPLES / "notice_to_respond.pdf"
        cli = subprocess.run([sys.executable, "-m", "songda.cli", "verify", str(path), "--document", str(served[0]), str(stranger)], capture_output=True, text=True)
        assert cli.returncode == 1 and f"FAIL  document {stranger}: NOT in the report" in cli.stdout
        changed = json.loads(path.read_text())
        changed["recipients"][0]["service_date"] = "2026-11-23"
        path.write_text(json.dumps(changed, ensure_ascii=False))
        cli = subprocess.run([sys.executable, "-m", "songda.cli", "verify", str(path)], capture_output=True, text=True)
        assert cli.returncode == 1 and "report hash" in cli.stdout

        # Late evidence issues version 2; version 1 stays as it was.
        late = await ev.upload(
            {"notice_id": history.notice_id, "kind": "ems_trace", "attempt_id": attempt, "details": {"opCode": "801", "opDesc": "回执已返回"}},
            None,
            headers=token(Role.service, "carrier_gateway"),
        )
        assert late.status_code == 201, late.text
        second = await eventually(lambda: issued(2), what="version 2")
        first = (await ev.client.get(f"/v1/reports/{history.notice_id}?version=1", headers=COURT)).json()
        assert first == report and second["previous_sha256"] == report["seal"]["report_sha256"]
        assert verify_report(second, blobs=ev.blobs).ok
        # The renderer typesets the newest version in the background, before anyone asks for it.
        rendered = await eventually(lambda: _rendered(ev, history.notice_id, 2), what="version 2 rendered as PDF")

        # The court got both versions, signed, after two refused deliveries, each kept once.
        await eventually(lambda: _kept(court, 2), timeout=30, what="both versions pushed to the court")
        assert sorted(court.kept) == sorted(f"{report['report_id']}:{v}" for v in (1, 2))
        headers, body = next(call for call in court.calls if call[0]["idempotency-key"].endswith(":1"))
        stamp, mac = (part.split("=", 1)[1] for part in headers["x-songda-signature"].split(","))
        assert hmac.compare_digest(mac, hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest())
        assert json.loads(body)["seal"] == report["seal"]

        # Renderings, and every report read audited.
        html = await ev.client.get(f"/v1/reports/{history.notice_id}.html", headers=COURT)
        assert html.status_code == 200 and histories.CASE in html.text
        pdf = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf", headers=COURT)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        # Each version typeset once, then served as stored: the same bytes, named by their sha256.
        digest = hashlib.sha256(pdf.content).hexdigest()
        assert digest == rendered
        assert pdf.headers["etag"] == f'"{digest}"' and (ev.blobs / digest[:2] / digest[2:4] / digest).read_bytes() == pdf.content
        again = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf?version=2", headers=COURT)
        assert again.content == pdf.content
        older = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf?version=1", headers=COURT)
        assert older.status_code == 200 and older.headers["etag"] != pdf.headers["etag"]
        assert 'filename="delivery-report-' in older.headers["content-disposition"] and "-v1.pdf" in older.headers["content-disposition"]
        versions = await ev.client.get(f"/v1/reports/{history.notice_id}/versions", headers=COURT)
        assert [(v["version"], v["sha256"]) for v in versions.json()] == [(1, report["seal"]["report_sha256"]), (2, second["seal"]["report_sha256"])]
        for suffix in ("", ".html", ".pdf"):
            missing = await ev.client.get(f"/v1/reports/{history.notice_id}{suffix}?version=3", headers=COURT)
            assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json"), suffix
            for bad in ("0", "2147483648", "x"):
                refused = await ev.client.get(f"/v1/reports/{history.notice_id}{suffix}?version={bad}", headers=COURT)
                assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "version"), (suffix, bad)
        assert (await ev.client.get(f"/v1/reports/{history.notice_id}/versions", headers=token(Role.court, "C999999"))).status_code == 404
        assert (await ev.client.get(f"/v1/reports/{history.notice_id}", headers=token(Role.court, "C999999"))).status_code == 404
        async with ev.db.sessions() as session:
            actions = [
                row[0] for row in (await session.exec(text("SELECT action FROM audit_entry WHERE target LIKE :n ORDER BY at"), params={"n": f"{history.notice_id}/%"})).all()
            ]  # type: ignore[call-overload]
        assert actions.count("report.json") >= 3 and "report.html" in actions and actions.count("report.pdf") == 3
        async with ev.db.sessions() as session:
            listed = (await session.exec(text("SELECT count(*) FROM audit_entry WHERE action = 'report.versions' AND target = :n"), params={"n": history.notice_id})).one()  # type: ignore[call-overload]
        assert listed[0] == 1

        # A court holding the newest PDF revalidates it by its ETag: 304 without a body; a superseded copy gets the new file.
        held = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf", headers=COURT | {"If-None-Match": pdf.headers["etag"]})
        assert (held.status_code, held.content, held.headers["etag"]) == (304, b"", pdf.headers["etag"])
        assert "no-cache" in held.headers["cache-control"]
        stale = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf", headers=COURT | {"If-None-Match": older.headers["etag"]})
        assert stale.status_code == 200 and stale.content == pdf.content
        foreign = await ev.client.get(f"/v1/reports/{history.notice_id}.pdf", headers=token(Role.court, "C999999") | {"If-None-Match": pdf.headers["etag"]})
        assert foreign.status_code == 404


async def _rendered(ev: Evidence, notice_id: str, version: int) -> str | None:
    async with ev.db.sessions() as session:
        row = (
            await session.exec(text("SELECT pdf_sha256 FROM evidence_report WHERE notice_id = :n AND version = :v"), params={"n": notice_id, "v": version})  # type: ignore[call-overload]
        ).one()
    return row[0]


async def _kept(court: Court, count: int) -> bool:
    return len(court.kept) >= count


def _assert_tampering_caught(report: dict[str, Any], blobs: Path, tmp_path: Path) -> None:
    body = copy.deepcopy(report)
    body["case_number"] = body["case_number"].replace("0999", "0998")
    assert any("report hash" in p for p in verify_report(body).problems)

    entry = copy.deepcopy(report)
    ref = next(e for e in entry["recipients"][0]["attempts"][0]["evidence"] if e["kind"] == "ems_trace")
    ref["proof"]["entry"] = ref["proof"]["entry"].replace('"sha256":"', '"sha256":"0', 1)[:-1] + "}"
    assert any("ems_trace" in p for p in verify_report(entry).problems)

    path = copy.deepcopy(report)
    first = path["recipients"][0]["attempts"][0]["evidence"][0]["proof"]
    first["path"][0] = ("0" if first["path"][0][0] != "0" else "1") + first["path"][0][1:]
    assert any("inclusion proof" in p for p in verify_report(path).problems)

    signature = copy.deepcopy(report)
    raw = bytearray(base64.b64decode(signature["checkpoint"]["signature"]))
    raw[0] ^= 1
    signature["checkpoint"]["signature"] = base64.b64encode(bytes(raw)).decode()
    assert any("checkpoint" in p for p in verify_report(signature).problems)

    copied = tmp_path / "blobs-copy"
    shutil.copytree(blobs, copied)
    # Uploaded items follow the attempt's events.
    scan = report["recipients"][0]["attempts"][0]["evidence"][-1]
    [blob] = [p for p in copied.rglob(scan["sha256"])]
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    assert any("do not hash" in p for p in verify_report(report, blobs=copied).problems)


async def test_kpis_follow_the_events_consumed(ev: Evidence) -> None:
    notices = histories.kpi_notices()
    for history in notices:
        await ev.play(history, holding=frozenset())
    supervisor = token(Role.supervisor, "sup-1")
    answer = (await ev.client.get("/v1/kpis", params={"by": "court"}, headers=supervisor)).json()
    total = answer["total"]
    assert (total["notices"], total["recipients"], total["settled"], total["served"], total["open"]) == (7, 9, 8, 7, 1)
    assert (total["success"]["numerator"], total["success"]["denominator"], total["success"]["value"]) == (7, 8, 0.875)
    assert [(r["numerator"], r["denominator"]) for r in (total["overdue"], total["first_attempt"], total["electronic"])] == [(4, 7), (3, 8), (1, 7)]
    assert (total["time_to_serve"]["median_hours"], total["time_to_serve"]["p90_hours"]) == (72.0, 768.0)
    assert (total["cost_fen"], total["cost_by_item_fen"]["court_mail"]) == (74041, 6000)
    assert [(g["key"], g["label"], g["figures"]["recipients"]) for g in answer["groups"]] == [
        (histories.COURT, "威海市环翠区人民法院", 5),
        (histories.OTHER_COURT, "荣成市人民法院", 4),
    ]
    # A court's token reads its own court, whatever it asks for.
    own = (await ev.client.get("/v1/kpis", headers=COURT)).json()
    assert (own["court_id"], own["total"]["recipients"]) == (histories.COURT, 5)
    other = (await ev.client.get("/v1/kpis", params={"court_id": histories.OTHER_COURT}, headers=COURT)).json()
    assert other["total"]["recipients"] == 0
    week = (await ev.client.get("/v1/kpis", params={"from": "2026-11-30", "to": "2026-12-06", "by": "week"}, headers=supervisor)).json()
    assert [(g["key"], g["figures"]["notices"]) for g in week["groups"]] == [("2026-W49", 4)] and week["from"] == "2026-11-30"
    csv_answer = await ev.client.get("/v1/kpis.csv", params={"by": "agent"}, headers=COURT)
    assert csv_answer.headers["content-type"].startswith("text/csv") and csv_answer.content.startswith(b"\xef\xbb\xbf")
    assert "无（电子及邮寄）" in csv_answer.content.decode("utf-8-sig")
    backwards = await ev.client.get("/v1/kpis", params={"from": "2026-12-06", "to": "2026-11-30"}, headers=supervisor)
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    workbook = await ev.client.get(f"/v1/kpis/monthly/{histories.COURT}/2026-11.xlsx", headers=COURT)
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert (await ev.client.get(f"/v1/kpis/monthly/{histories.OTHER_COURT}/2026-11.xlsx", headers=COURT)).status_code == 404
    assert (await ev.client.get(f"/v1/kpis/monthly/{histories.COURT}/2026-13.pdf", headers=COURT)).status_code == 422


async def test_the_report_of_an_e_service_through_the_firm_is_its_certificate_in_chinese(ev: Evidence) -> None:
    history = histories.through_the_firm(histories.registered())
    await ev.play(history, holding=frozenset())

    async def issued() -> dict[str, Any] | None:
        response = await ev.client.get(f"/v1/reports/{history.notice_id}", headers=COURT)
        return response.json() if response.status_code == 200 else None

    report = await eventually(issued, what="the report")
    assert verify_report(report, blobs=ev.blobs).ok
    [recipient] = report["recipients"]
    [ack] = recipient["acknowledgements"]
    assert (ack["ip"], ack["by"], ack["user_agent"].startswith("Mozilla/5.0 (X11; Linux x86_64)")) == ("198.51.100.4", "zhao.lawyer", True)
    assert (recipient["consent"]["form"], recipient["lawyer"]) == ("pre_agreed", {"name": "赵律师", "firm": "山东某某律师事务所"})
    assert [(a["result"], a.get("superseded_by"), a.get("remarks")) for a in recipient["attempts"]] == [
        ("succeeded", None, ["reported_before_window"]),
        ("superseded", "firm-1", None),
    ]
    assert report["due_date"] == "2026-11-26"

    html = (await ev.client.get(f"/v1/reports/{history.notice_id}.html", headers=COURT)).text
    assert "电子送达凭证" in html and "198.51.100.4" in html and "Mozilla/5.0 (X11; Linux x86_64)" in html and "zhao.lawyer" in html
    assert "诉前约定（含律所送达协议、合同条款）" in html and "已由先完成的送达取代" in html and "早于预约时段报告" in html
    assert english_words(html) == []
