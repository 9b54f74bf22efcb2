"""Evidence benchmark: photo ingest through POST /v1/evidence, and delivery reports served as JSON and as PDF.

Starts the evidence service as a process on a fresh PostgreSQL database, private topics and a fresh
blob directory. Photo ingest: N distinct camera-sized JPEGs (EXIF with GPS and time, a few MB each)
are uploaded by an agent for a visit task, concurrently; each is streamed to the blob store, hashed,
sniffed, its EXIF checked against the task, logged in the Merkle log and announced on Kafka. Just
before, the floor: bare sha256 + write + fsync of the same files. Reports: M notices with a postal
history are played through Kafka; when each completes its report is issued and the background
renderer typesets its PDF, as in production, and the run waits until every PDF is stored (that is the
first render's figure). Then every report is fetched, R rounds, as JSON, as PDF (the headline: what a
court's GET costs once the report is issued) and as PDF revalidated by its ETag (304); the floors are
a raw SQL read of the stored report documents and a raw read of the stored PDF files. The evidence
process's CPU per photo and per report is printed for each path.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Figures, cpu_seconds, delete_topics, drop_databases, each, figures, make_databases, profiled, save  # noqa: E402
from shared.contracts.events import GeoPoint  # noqa: E402
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, DELIVERY_EVENTS, INTAKE_EVENTS, TopicNames, create_topics  # noqa: E402
from shared.plumbing.auth import Role  # noqa: E402 — the repo root must be importable first
from simulators import camera  # noqa: E402
from songda.devstack import Stack  # noqa: E402
from tests import histories  # noqa: E402
from tests.support import KAFKA, free_port, publish, stack_env, token  # noqa: E402

AGENT = token(Role.agent, "agent-7")
COURT = token(Role.court, histories.COURT)
WARMUP = 8  # photos uploaded before the timed ingest
TOPICS = {"intake": INTAKE_EVENTS, "delivery": DELIVERY_EVENTS, "carrier_gateway": CARRIER_GATEWAY_EVENTS}


def camera_photos(count: int, *, width: int, height: int) -> list[bytes]:
    """Returns distinct JPEGs the size a phone takes, with EXIF (GPS near the address, time in the task's window)."""
    rng = random.Random(7)
    bases = [Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)) for _ in range(4)]
    taken = histories.START + timedelta(days=1, hours=1)
    out = []
    for index in range(count):
        photo = camera.jpeg(location=GeoPoint(lat=histories.HOME.lat + 0.0002, lon=histories.HOME.lon), taken_at=taken + timedelta(seconds=index), size=(8, 8))
        # The EXIF of a small photo on the pixels of a big one: the header is what the checks read.
        exif = Image.open(io.BytesIO(photo)).getexif()
        buffer = io.BytesIO()
        bases[index % len(bases)].save(buffer, "JPEG", quality=92, exif=exif)
        out.append(buffer.getvalue())
    return out


def floor_ingest(files: list[bytes], directory: Path) -> Figures:
    """Bare sha256 + write + fsync of each file under its digest, one after another."""
    latencies = []
    began = time.perf_counter()
    for data in files:
        started = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        with (directory / digest).open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        latencies.append((time.perf_counter() - started) * 1000)
    return figures("bare sha256 + write + fsync", latencies, time.perf_counter() - began)


async def ingest(stack: Stack, history: histories.History, files: list[bytes], concurrency: int) -> Figures:
    """Uploads every photo for the history's visit task; returns the figures."""
    task = next(e.task_id for _, e in history.events if type(e).__name__ == "TaskAssigned")  # type: ignore[attr-defined]
    meta = json.dumps({"notice_id": history.notice_id, "kind": "photo", "scene": "visit", "task_id": task})
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=stack.url("evidence"), headers=AGENT, timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def upload(data: bytes) -> None:
            started = time.perf_counter()
            response = await client.post("/v1/evidence", files={"metadata": (None, meta, "application/json"), "file": ("photo.jpg", data, "image/jpeg")})
            if response.status_code != 201 or response.json()["flags"]:
                raise SystemExit(f"\nupload refused or flagged: {response.status_code} {response.text[:300]}")
            latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await each("photos uploaded", files, concurrency, upload)
        seconds = time.perf_counter() - began
    return figures("photo ingest (POST /v1/evidence)", latencies, seconds)


async def play(played: list[histories.History], *, prefix: str, completed: bool) -> None:
    """Publishes the histories' events on the run's topics (NoticeCompleted only when `completed`)."""
    for history in played:
        for source, event in history.events:
            if (type(event).__name__ == "NoticeCompleted") == completed:
                await publish(KAFKA, TopicNames(prefix).physical(TOPICS[source]), [event], subject=history.notice_id, source=f"songda/{source}")


async def wait_for(client: httpx.AsyncClient, paths: list[str], *, timeout: float, label: str) -> None:
    """Polls until every path answers 200."""
    deadline = time.monotonic() + timeout
    pending = list(paths)
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"\n{len(pending)} {label} missing after {timeout:.0f} s")
        pending = [p for p in pending if (await client.get(p)).status_code != 200]
        if pending:
            await asyncio.sleep(0.5)


async def wait_for_timeline(client: httpx.AsyncClient, notice_id: str, count: int, *, timeout: float) -> None:
    """Polls until the notice's timeline holds `count` events."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/v1/notices/{notice_id}/timeline")
        if response.status_code == 200 and len(response.json()["entries"]) >= count:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"\nthe visit's {count} events not logged after {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def fetch_all(stack: Stack, notice_ids: list[str], *, suffix: str, concurrency: int, name: str, etags: dict[str, str] | None = None) -> Figures:
    """Fetches every report (as often as it is listed) in one rendering, revalidating the copy held when `etags` has it; returns the figures."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=stack.url("evidence"), headers=COURT, timeout=120) as client:

        async def get(notice_id: str) -> None:
            held = {"If-None-Match": etags[notice_id]} if etags is not None else {}
            started = time.perf_counter()
            response = await client.get(f"/v1/reports/{notice_id}{suffix}", headers=held)
            if response.status_code != (304 if etags is not None else 200):
                raise SystemExit(f"\n{notice_id}{suffix} answered {response.status_code}")
            latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await each(name, notice_ids, concurrency, get)
        seconds = time.perf_counter() - began
    return figures(name, latencies, seconds)


async def stored_pdfs(url: str, notice_ids: list[str]) -> dict[str, str]:
    """Returns the sha256 of the newest version's stored PDF, by notice, for the notices that have one."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT ON (notice_id) notice_id, pdf_sha256 FROM evidence_report WHERE notice_id = ANY($1) ORDER BY notice_id, version DESC", sorted(set(notice_ids))
        )
    finally:
        await connection.close()
    return {row["notice_id"]: row["pdf_sha256"] for row in rows if row["pdf_sha256"]}


async def issued_and_typeset(stack: Stack, url: str, played: list[histories.History], *, prefix: str, timeout: float) -> tuple[Figures, float]:
    """Completes the notices and waits, reading the database rather than the API, until each report's PDF is stored; returns the figures and evidence's CPU ms per report."""
    process = stack.processes["evidence"].pid
    before = cpu_seconds(process)
    began = time.perf_counter()
    await play(played, prefix=prefix, completed=True)
    pending = {h.notice_id for h in played}
    latencies: list[float] = []
    while pending:
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"\n{len(pending)} reports not issued and typeset after {timeout:.0f} s")
        await asyncio.sleep(0.1)
        done = set(await stored_pdfs(url, sorted(pending)))
        latencies += [(time.perf_counter() - began) * 1000] * len(done)
        pending -= done
    seconds = time.perf_counter() - began
    return figures("report as PDF, first render (background)", latencies, seconds), (cpu_seconds(process) - before) * 1000 / len(played)


async def floor_reports(url: str, notice_ids: list[str], concurrency: int) -> Figures:
    """Raw SQL: read each stored report document by notice, `concurrency` connections at once."""
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    try:

        async def read(notice_id: str) -> None:
            started = time.perf_counter()
            await pool.fetchval("SELECT document::text FROM evidence_report WHERE notice_id = $1 ORDER BY version DESC LIMIT 1", notice_id)
            latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await each("raw SQL report reads", notice_ids, concurrency, read)
        seconds = time.perf_counter() - began
    finally:
        await pool.close()
    return figures("raw SQL read of the report document", latencies, seconds)


async def floor_pdfs(url: str, blobs: Path, notice_ids: list[str], concurrency: int) -> Figures:
    """Raw read of each stored PDF file, its path from the newest version's pdf_sha256, `concurrency` at once."""
    stored = await stored_pdfs(url, notice_ids)
    if len(stored) != len(set(notice_ids)):
        raise SystemExit(f"\n{len(set(notice_ids)) - len(stored)} reports have no stored PDF")
    latencies: list[float] = []

    async def read(notice_id: str) -> None:
        started = time.perf_counter()
        sha256 = stored[notice_id]
        await asyncio.to_thread((blobs / sha256[:2] / sha256[2:4] / sha256).read_bytes)
        latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await each("raw PDF file reads", notice_ids, concurrency, read)
    return figures("raw read of the stored PDF file", latencies, time.perf_counter() - began)


async def fetch_measured(stack: Stack, notice_ids: list[str], *, cpu: dict[str, float], key: str, **fetch: Any) -> Figures:
    """Fetches every report as `fetch_all` does and records the evidence process's CPU ms per request in `cpu[key]`."""
    process = stack.processes["evidence"].pid
    before = cpu_seconds(process)
    measured = await fetch_all(stack, notice_ids, **fetch)
    cpu[key] = (cpu_seconds(process) - before) * 1000 / len(notice_ids)
    return measured


async def measure(args: argparse.Namespace, run: str, prefix: str, workdir: Path) -> tuple[list[Figures], dict[str, Any]]:
    """Runs evidence and measures ingest and reports; returns the figures and size facts."""
    urls = await make_databases(run)
    env = {
        **stack_env(kafka=KAFKA, prefix=prefix),
        "SONGDA_LOG_LEVEL": "WARNING",
        "EVIDENCE_BLOB_DIR": str(workdir / "blobs"),
        "EVIDENCE_MAX_UPLOAD_MB": "64",
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
    }
    stack = Stack(env=env, ports={"evidence": free_port()}, log_dir=workdir / "log", run_dir=workdir / "run")
    print(f"  preparing {args.photos} photos of {args.width}×{args.height} …", file=sys.stderr)
    # The first few photos warm the path (connections, prepared statements, Pillow's plugins) and are not timed.
    photos = camera_photos(WARMUP + args.photos, width=args.width, height=args.height)
    warmup, files = photos[:WARMUP], photos[WARMUP:]
    megabytes = sum(len(f) for f in files) / 1e6
    notices = [histories.postal(histories.registered()) for _ in range(args.reports)]
    visit = histories.direct(histories.registered())
    # The visit is still going on: its agent uploads the photos before reporting, while evidence holds the task open.
    visit.events = [(source, event) for source, event in visit.events if type(event).__name__ not in ("AttemptSucceeded", "RecipientServed", "NoticeCompleted")]
    floor_dir = workdir / "floor"
    floor_dir.mkdir()
    stack.start()
    try:
        stack.wait_healthy()
        process = stack.processes["evidence"].pid
        async with httpx.AsyncClient(base_url=stack.url("evidence"), headers=COURT, timeout=30) as client:
            await play([visit], prefix=prefix, completed=False)
            # Every event of the visit logged, its TaskAssigned among them: an upload for a task not yet heard of is refused (409).
            await wait_for_timeline(client, visit.notice_id, len(visit.events), timeout=60)
            await ingest(stack, visit, warmup, args.concurrency)
            # The floor just before the uploads, so that both see the machine as loaded as it is.
            floor = floor_ingest(files, floor_dir)
            with profiled(stack.processes, args.profile and args.profile / "ingest"):
                cpu_before = cpu_seconds(process)
                photo = await ingest(stack, visit, files, args.concurrency)
                cpu_photo = (cpu_seconds(process) - cpu_before) * 1000 / len(files)
            await play(notices, prefix=prefix, completed=False)
            await wait_for(client, [f"/v1/notices/{h.notice_id}/timeline" for h in notices], timeout=120, label="notices")
        with profiled(stack.processes, args.profile and args.profile / "reports"):
            typeset, cpu_typeset = await issued_and_typeset(stack, urls["evidence"], notices, prefix=prefix, timeout=600)
            ids = [h.notice_id for h in notices]
            served = ids * args.rounds
            cpu: dict[str, float] = {"pdf_first": cpu_typeset}
            fetch = {"concurrency": args.concurrency, "cpu": cpu}
            as_json = await fetch_measured(stack, served, suffix="", name="report as JSON", key="json", **fetch)
            as_pdf = await fetch_measured(stack, served, suffix=".pdf", name="report as PDF, served stored", key="pdf_stored", **fetch)
            etags = {notice_id: f'"{sha256}"' for notice_id, sha256 in (await stored_pdfs(urls["evidence"], ids)).items()}
            held = await fetch_measured(stack, served, suffix=".pdf", name="report as PDF, held copy (304)", key="pdf_held", etags=etags, **fetch)
        floor_sql = await floor_reports(urls["evidence"], served, args.concurrency)
        floor_pdf = await floor_pdfs(urls["evidence"], workdir / "blobs", served, args.concurrency)
    finally:
        stack.stop()
        await drop_databases(urls)
    facts = {
        "megabytes": megabytes,
        "cpu_ms_per_photo": cpu_photo,
        **{f"cpu_ms_per_report_{key}": value for key, value in cpu.items()},
        "photo_ingest_ratio": photo.per_second / floor.per_second,
        "pdf_per_second": as_pdf.per_second,
        "pdf_p99_ms": as_pdf.p99_ms,
        "pdf_first_per_second": typeset.per_second,
        # CPU per unit of work per process: only evidence runs here.
        "cpu_ms_per_unit": {"evidence": {"photo": cpu_photo, **{f"report_{key}": value for key, value in cpu.items()}}},
    }
    return [photo, floor, as_json, typeset, as_pdf, held, floor_sql, floor_pdf], facts


def report(rows: list[Figures], args: argparse.Namespace, facts: dict[str, Any]) -> str:
    """Formats the figures as a table."""
    photo, floor = rows[0], rows[1]
    mb = facts["megabytes"]
    lines = [
        "",
        f"Songda evidence benchmark: {args.photos} photos ({mb:.1f} MB, {mb / args.photos:.2f} MB each), {args.reports} reports, {args.concurrency} concurrent clients",
        f"  {'path':<38} {'per second':>11} {'MB/s':>8} {'p50 ms':>9} {'p99 ms':>9} {'seconds':>8}",
    ]
    for row in rows:
        rate = f"{mb / row.seconds:>8.1f}" if row in (photo, floor) else f"{'':>8}"
        lines.append(f"  {row.name:<38} {row.per_second:>11,.1f} {rate} {row.p50_ms:>9.1f} {row.p99_ms:>9.1f} {row.seconds:>8.2f}")
    lines.append(f"  ingest / bare floor throughput: {facts['photo_ingest_ratio']:.3f} (target ≥ 0.6); evidence CPU per photo {facts['cpu_ms_per_photo']:.1f} ms")
    lines.append(
        f"  report as PDF: {facts['pdf_per_second']:.1f}/s (target ≥ 20), p99 {facts['pdf_p99_ms']:.0f} ms (target ≤ 200);"
        f" first render in the background {facts['pdf_first_per_second']:.2f}/s"
    )
    lines.append(
        f"  evidence CPU per report: issued and typeset {facts['cpu_ms_per_report_pdf_first']:.1f} ms, JSON {facts['cpu_ms_per_report_json']:.1f} ms,"
        f" PDF {facts['cpu_ms_per_report_pdf_stored']:.1f} ms, PDF held copy {facts['cpu_ms_per_report_pdf_held']:.1f} ms"
    )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"bench{run}."
    await create_topics(KAFKA, prefix=prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="songda-bench-", dir=REPO / "var") as tmp:
            rows, facts = await measure(args, run, prefix, Path(tmp))
    finally:
        await delete_topics(KAFKA, prefix)
    print(report(rows, args, facts))
    save("evidence", args, rows, **facts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--photos", type=int, default=200, help="photos to upload (default 200)")
    parser.add_argument("-r", "--reports", type=int, default=50, help="notices whose reports are issued and fetched (default 50)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--rounds", type=int, default=4, help="times each report is read as JSON, as stored PDF and by the floors (default 4)")
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--height", type=int, default=1536)
    parser.add_argument("--profile", type=Path, help="sample the evidence service with py-spy into DIR/ingest and DIR/reports")
    return parser.parse_args(argv)


if __name__ == "__main__":
    (REPO / "var").mkdir(exist_ok=True)
    asyncio.run(main(parse_args()))
