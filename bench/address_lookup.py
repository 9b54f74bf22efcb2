"""Address lookup benchmark: ranked addresses per second over HTTP from an address book of N parties.

Loads N synthetic parties into a fresh PostgreSQL database with `songda gen` and `songda import`
(timed), starts intake as a process on it and looks up random known parties concurrently over
HTTP. In the same run it measures the floor: the same indexed reads the lookup makes (party by id,
its address entries, confirmations and contacts) with asyncpg, no ORM, at the same concurrency. Lookups
and floor are timed in rounds, each floor right after its lookups, and the median round is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Figures, ServerCpu, delete_topics, figures, profiled  # noqa: E402
from services.intake.book import party_id_for  # noqa: E402 — the repo root must be importable first
from services.intake.domain import name_key  # noqa: E402
from shared.contracts.topics import create_topics  # noqa: E402
from shared.plumbing.auth import Role, mint  # noqa: E402
from songda.devstack import Stack  # noqa: E402
from tests.support import KAFKA, POSTGRES, SECRET, free_port, pg_url  # noqa: E402

DATABASE = "songda_bench_lookup"
SONGDA = str(Path(sys.executable).with_name("songda"))
WARMUP = 200
# The reads book.find_party and book.load_book make for one lookup, in the same order.
READS = (
    "SELECT * FROM intake_party WHERE id = $1",
    "SELECT * FROM intake_address_entry WHERE party_id = $1",
    "SELECT * FROM intake_confirmation WHERE party_id = $1",
    "SELECT * FROM intake_contact WHERE party_id = $1",
)


@dataclass(frozen=True)
class Lookup:
    """One party to look up, as the imported cases name it."""

    name: str
    kind: str
    id_type: str
    id_number: str
    phone: str
    case_number: str | None
    stage: str | None

    def body(self) -> dict[str, Any]:
        """Returns the POST /v1/address-lookups body."""
        party = {"name": self.name, "kind": self.kind, "id_type": self.id_type, "id_number": self.id_number}
        case = {"case_number": self.case_number, "stage": self.stage} if self.case_number else {}
        return {"party": party, "phones": [self.phone], **case, "purpose": "bench"}

    def party_id(self) -> str:
        """Returns the party's id, derived as intake derives it."""
        found = party_id_for(id_type=self.id_type, id_number=self.id_number, name_key=name_key(self.name), phone=None)
        assert found is not None
        return found


class CpuMeter:
    """CPU time (user + system) that intake, the local PostgreSQL server's processes and this benchmark spend from now on."""

    def __init__(self, intake: int | None = None) -> None:
        self.intake = intake
        self.start = self.sample()

    def sample(self) -> dict[int | str, float]:
        """Returns CPU ms used so far by intake and each postgres process (by pid) and by this benchmark ("bench")."""
        postgres = [int(comm.parent.name) for comm in Path("/proc").glob("[0-9]*/comm") if _read(comm) == "postgres"]
        return {pid: _cpu_ms(pid) for pid in [*postgres, *([self.intake] if self.intake else [])]} | {"bench": time.process_time() * 1000}

    def per(self, count: int) -> dict[str, float]:
        """Returns CPU ms per operation since the meter started, by who spent it."""
        spent = {key: value - self.start.get(key, 0.0) for key, value in self.sample().items()}
        intake, bench = spent.pop(self.intake, 0.0) if self.intake else 0.0, spent.pop("bench")
        return {"intake": intake / count, "postgres": sum(spent.values()) / count, "bench": bench / count}


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""  # the process ended meanwhile


def _cpu_ms(pid: int) -> float:
    fields = _read(Path(f"/proc/{pid}/stat")).rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK") if len(fields) > 12 else 0.0


def songda(*args: str) -> None:
    """Runs a `songda` command with its output (and progress bar) going to ours; fails on a non-zero exit."""
    code = subprocess.call([SONGDA, *args], cwd=REPO)
    if code != 0:
        raise SystemExit(f"songda {args[0]} exited with code {code}")


async def drop_database() -> None:
    admin = await asyncpg.connect(POSTGRES)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


async def loaded_parties(url: str) -> int | None:
    """Returns how many parties a finished import left in the database, or None if there is none."""
    admin = await asyncpg.connect(POSTGRES)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            return None
    finally:
        await admin.close()
    connection = await asyncpg.connect(url)
    try:
        # An import that stopped half-way leaves intake_import unfinished: such a database is loaded again.
        if not await connection.fetchval("SELECT to_regclass('intake_import') IS NOT NULL") or not await connection.fetchval(
            "SELECT coalesce(bool_and(finished), false) FROM intake_import"
        ):
            return None
        return int(await connection.fetchval("SELECT count(*) FROM intake_party"))
    finally:
        await connection.close()


async def load(args: argparse.Namespace, url: str, data: Path) -> dict[str, Any]:
    """Creates the database afresh, generates and imports the parties, runs ANALYZE; returns the import's figures."""
    await drop_database()
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    await admin.close()
    songda("gen", str(args.parties), "--out", str(data), "--seed", str(args.seed), "--today", date.today().isoformat())
    children, began = _children_cpu_ms(), time.perf_counter()
    # The import's backends start after any meter would and are gone when it ends: followed while they live.
    with ServerCpu([DATABASE]) as servers:
        songda("import", str(data), "--database-url", url)
    seconds, child = time.perf_counter() - began, _children_cpu_ms() - children
    connection = await asyncpg.connect(url)
    try:
        rows = int(await connection.fetchval("SELECT sum(accepted + rejected) FROM intake_import"))
        cpu = {"import": child / rows, "postgres": servers.per(rows)["postgres"]}
        parties = int(await connection.fetchval("SELECT count(*) FROM intake_party"))
        copy_seconds, copy_cpu = await copy_floor(connection, rows)
        began = time.perf_counter()
        await connection.execute("ANALYZE")
        analyze = time.perf_counter() - began
        # The import and the COPY floor leave about half a gigabyte of WAL. Flushed here, outside every clock: otherwise the
        # checkpoint it sets off writes for seconds during the timed lookups and stalls the commits of their audit entries,
        # while the floor's reads commit nothing.
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()
    return {
        "parties": parties,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "parties_per_s": parties / seconds,
        "analyze_s": analyze,
        "import_rows_per_second": rows / seconds,
        "copy_rows_per_second": rows / copy_seconds,
        "cpu_ms_per_row": {"import": {"import": cpu["import"], "postgres": cpu["postgres"]}, "copy": copy_cpu},
    }


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


async def copy_floor(connection: asyncpg.Connection, rows: int) -> tuple[float, dict[str, float]]:
    """Times COPY writing what the import wrote (every row of the address book's four tables) into empty copies of them, indexes included.

    Returns the seconds and CPU ms per file row; the copies are dropped afterwards.
    """
    tables = ("intake_party", "intake_contact", "intake_address_entry", "intake_confirmation")
    held = {}
    for table in tables:
        await connection.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        held[table] = [tuple(record) for record in await connection.fetch(f"SELECT * FROM {table}")]
    try:
        meter, began = CpuMeter(), time.perf_counter()
        for table, records in held.items():
            await connection.copy_records_to_table(f"floor_{table}", records=records)
        seconds, cpu = time.perf_counter() - began, meter.per(rows)
    finally:
        for table in tables:
            await connection.execute(f"DROP TABLE IF EXISTS floor_{table}")
    return seconds, {"postgres": cpu["postgres"], "bench": cpu["bench"]}


def sample(data: Path, parties: int, count: int, seed: int) -> list[Lookup]:
    """Picks `count` parties of the generated file at random; half of them get one of their cases."""
    rng = random.Random(seed)
    chosen = set(rng.sample(range(parties), min(count, parties)))
    found: dict[int, dict[str, Any]] = {}
    index = -1
    with data.open("rb") as handle:
        for line in handle:
            # Each party's rows follow its household row; only the chosen parties' lines are decoded.
            if b'"source": "household"' in line:
                index += 1
            if index not in chosen:
                continue
            row = json.loads(line)
            party = found.setdefault(index, {**row, "cases": []})
            if row["record"] == "case":
                party["cases"].append((row["case_number"], row["stage"]))
    order = sorted(found)
    rng.shuffle(order)
    lookups = []
    for index in order:
        row = found[index]
        case = rng.choice(row["cases"]) if row["cases"] and len(lookups) % 2 == 0 else (None, None)
        lookups.append(Lookup(row["name"], row["party_kind"], row["id_type"], row["id_number"], row["phone"], *case))
    return lookups


async def fire(client: aiohttp.ClientSession, lookups: list[Lookup], concurrency: int) -> tuple[list[float], float, list[dict[str, Any]]]:
    """Posts every lookup, `concurrency` at once; returns latencies (ms), wall seconds and the responses."""
    pending = iter(lookups)
    latencies: list[float] = []
    answers: list[dict[str, Any]] = []

    async def worker() -> None:
        for lookup in pending:
            started = time.perf_counter()
            async with client.post("/v1/address-lookups", json=lookup.body()) as response:
                body = await response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"lookup answered {response.status}: {body[:500]!r}")
            answers.append(json.loads(body))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began, answers


async def floor(pool: asyncpg.Pool, lookups: list[Lookup], concurrency: int) -> tuple[list[float], float, dict[str, float]]:
    """Runs the lookup's reads with asyncpg for every party, `concurrency` at once; returns latencies (ms), wall seconds and CPU ms per lookup."""
    ids = [lookup.party_id() for lookup in lookups]
    pending = iter(ids)
    latencies: list[float] = []

    async def worker() -> None:
        for party_id in pending:
            started = time.perf_counter()
            async with pool.acquire() as connection:
                for query in READS:
                    await connection.fetch(query, party_id)
            latencies.append((time.perf_counter() - started) * 1000)

    meter, began = CpuMeter(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began, meter.per(len(ids))


@contextmanager
def collections_held() -> Iterator[None]:
    """Holds this process's garbage collector off while the block runs, after one collection outside it.

    The bench holds every sampled party and every answer: a full collection of its heap took 55–100 ms in the third
    round, and every lookup in flight meanwhile counted it as the lookup's latency.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class Round:
    """One timed round: the lookups, then the floor's reads of the same parties, with the CPU each cost and the lookups' answers."""

    lookup: Figures
    floor: Figures
    cpu: dict[str, dict[str, float]]
    answers: list[dict[str, Any]]

    @property
    def ratio(self) -> float:
        """The lookups' p99 over the floor's."""
        return self.lookup.p99_ms / self.floor.p99_ms


def median_round(rounds: list[Round]) -> Round:
    """Returns the round with the median p99 ratio.

    The p99 of a thousand lookups, sixteen at a time, is set by a single event: one pause of the machine delays the
    sixteen in flight together, and that is more than 1% of them. The median of several rounds, each timed beside its
    own floor, keeps a tail that every round shows and drops one that a single pause made.
    """
    return sorted(rounds, key=lambda round_: round_.ratio)[len(rounds) // 2]


async def count_audit(url: str) -> int:
    """Returns how many audit entries intake has written."""
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM audit_entry WHERE action = 'address_lookup'"))
    finally:
        await connection.close()


async def measure(args: argparse.Namespace, url: str, lookups: list[Lookup], workdir: Path) -> dict[str, Any]:
    """Starts intake on the loaded database and measures lookups and the floor on the same parties."""
    prefix = f"benchlookup{uuid.uuid4().hex[:8]}."
    await create_topics(KAFKA, prefix=prefix)
    env = {"SONGDA_ENV": "test", "SONGDA_KAFKA_BOOTSTRAP": KAFKA, "SONGDA_TOPIC_PREFIX": prefix, "SONGDA_JWT_SECRET": SECRET,
           "SONGDA_LOG_LEVEL": "WARNING", "INTAKE_DATABASE_URL": url}  # fmt: skip
    stack = Stack(env=env, ports={"intake": free_port()}, log_dir=workdir / "log", run_dir=workdir / "run")
    # A supervisor may look up any party (audited); a court only parties its own cases name, which the imported cases are not.
    bearer = mint(secret=SECRET, role=Role.supervisor, sub="bench", issuer="songda", now=datetime.now(UTC))
    # One pool for every pass of the floor, warmed by the untimed first: a pool opened for a timed pass put its connections'
    # first statements, prepared on first use, into the floor's p99 (19–25 ms against 5–10 warm).
    pool = await asyncpg.create_pool(url, min_size=args.concurrency, max_size=args.concurrency)
    stack.start()
    try:
        stack.wait_healthy()
        # Both paths are timed on a warm cache: the sampled parties' rows are read once beforehand.
        await floor(pool, lookups, args.concurrency)
        audited = await count_audit(url)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=60)
        rounds: list[Round] = []
        async with aiohttp.ClientSession(stack.url("intake"), headers={"Authorization": f"Bearer {bearer}"}, connector=connector, timeout=timeout) as client:
            await fire(client, lookups[:WARMUP], args.concurrency)
            with profiled(stack.processes, args.profile), collections_held():
                for _ in range(args.rounds):
                    meter = CpuMeter(stack.processes["intake"].pid)
                    latencies, seconds, answers = await fire(client, lookups, args.concurrency)
                    cpu = meter.per(len(lookups))
                    floor_latencies, floor_seconds, floor_cpu = await floor(pool, lookups, args.concurrency)
                    rounds.append(
                        Round(
                            figures("lookup (HTTP, ORM, ranking, audit)", latencies, seconds),
                            figures("floor (asyncpg, 4 indexed reads)", floor_latencies, floor_seconds),
                            {"lookup": cpu, "floor": floor_cpu},
                            answers,
                        )
                    )
        audited = await count_audit(url) - audited
    except BaseException:
        print(f"\nintake's last log lines:\n{stack.tail('intake')}", file=sys.stderr)
        raise
    finally:
        await pool.close()
        stack.stop()
        await delete_topics(KAFKA, prefix)
    chosen = median_round(rounds)
    answers = chosen.answers
    with_candidates = sum(1 for a in answers if a["candidates"]) / len(answers)
    matched = sum(1 for a in answers if a["party"]["method"] == "id_number") / len(answers)
    if with_candidates < 0.5:
        raise SystemExit(f"only {with_candidates:.1%} of lookups found a candidate address")
    posted = args.rounds * len(lookups) + min(WARMUP, len(lookups))
    if audited != posted:
        raise SystemExit(f"{audited} audit rows written for {posted} lookups")
    return {
        "lookup": chosen.lookup,
        "floor": chosen.floor,
        "rounds": [{"lookup_p99_ms": r.lookup.p99_ms, "floor_p99_ms": r.floor.p99_ms, "p99_ratio": r.ratio} for r in rounds],
        "cpu_ms_per_lookup": chosen.cpu,
        "with_candidates": with_candidates,
        "matched_by_id": matched,
        "with_case_number": sum(1 for lookup in lookups if lookup.case_number) / len(lookups),
        "candidates_mean": sum(len(a["candidates"]) for a in answers) / len(answers),
    }


def report(args: argparse.Namespace, imported: dict[str, Any] | None, measured: dict[str, Any]) -> str:
    lookup, bare = measured["lookup"], measured["floor"]
    lines = ["", f"Songda address lookup benchmark: {args.parties:,} parties, {lookup.count:,} lookups, PostgreSQL, {args.concurrency} concurrent"]
    if imported:
        lines.append(
            f"  import: {imported['parties']:,} parties, {imported['rows']:,} rows in {imported['seconds']:.1f} s: "
            f"{imported['rows_per_s']:,.0f} rows/s, {imported['parties_per_s']:,.0f} parties/s (ANALYZE {imported['analyze_s']:.1f} s)"
        )
        copy, per_row = imported["copy_rows_per_second"], imported["cpu_ms_per_row"]
        lines.append(f"  floor: COPY of the same rows {copy:,.0f} rows/s; import / COPY {imported['import_rows_per_second'] / copy:.3f}")
        for path, cpu in per_row.items():
            lines.append(f"  CPU per row, {path + ' (ms):':<12} " + ", ".join(f"{who} {ms:.3f}" for who, ms in cpu.items()))
    else:
        lines.append(f"  import: skipped (--keep: {DATABASE} already held {args.parties:,} parties)")
    lines.append(f"  {'path':<36} {'per second':>12} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'seconds':>9}")
    for row in (lookup, bare):
        lines.append(f"  {row.name:<36} {row.per_second:>12,.1f} {row.p50_ms:>9.2f} {row.p90_ms:>9.2f} {row.p99_ms:>9.2f} {row.seconds:>9.2f}")
    lines.append(f"  lookup / floor: p50 {lookup.p50_ms / bare.p50_ms:.1f}×, p99 {lookup.p99_ms / bare.p99_ms:.1f}×, throughput {lookup.per_second / bare.per_second:.3f}")
    each = ", ".join(f"{r['lookup_p99_ms']:.1f} / {r['floor_p99_ms']:.1f} = {r['p99_ratio']:.2f}×" for r in measured["rounds"])
    lines.append(f"  p99 lookup / floor in each of {len(measured['rounds'])} rounds (the figures above are the median round's): {each}")
    lines.append(
        f"  lookups: {measured['matched_by_id']:.1%} matched by ID number, {measured['with_candidates']:.1%} with ≥1 candidate "
        f"(mean {measured['candidates_mean']:.2f}), {measured['with_case_number']:.0%} named a case"
    )
    for path, cpu in measured["cpu_ms_per_lookup"].items():
        lines.append(f"  CPU per lookup, {path + ' (ms):':<12} " + ", ".join(f"{who} {ms:.2f}" for who, ms in cpu.items()))
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    url = pg_url(DATABASE)
    with tempfile.TemporaryDirectory(prefix="songda-bench-lookup-") as tmp:
        # Kept with the database under --keep, so a rerun can pick its parties without loading again.
        data = REPO / "var" / "bench" / f"address_lookup-{args.parties}-s{args.seed}.jsonl" if args.keep else Path(tmp) / "parties.jsonl"
        data.parent.mkdir(parents=True, exist_ok=True)
        imported = None
        if not (args.keep and data.exists() and await loaded_parties(url) == args.parties):
            imported = await load(args, url, data)
        lookups = sample(data, args.parties, args.lookups, args.seed)
        try:
            measured = await measure(args, url, lookups, Path(tmp))
        finally:
            if not args.keep:
                await drop_database()
    print(report(args, imported, measured))
    path = REPO / "var" / "bench" / "address_lookup.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {key: asdict(measured[key]) | {"per_second": measured[key].per_second} for key in ("lookup", "floor")}
    path.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "import": imported, **measured, **rows}, indent=2))
    print(f"  figures saved to {path.relative_to(REPO)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=1_000_000, help="parties in the address book (default 1,000,000)")
    parser.add_argument("--lookups", type=int, default=5000, help="timed lookups (default 5000)")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="concurrent lookups (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of lookups and floor; the median round by p99 ratio is reported (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data set and of the sample (default 0)")
    parser.add_argument("--profile", type=Path, help="sample intake with py-spy during the timed lookups into this directory")
    parser.add_argument("--keep", action="store_true", help=f"keep {DATABASE} and the data file; a rerun with as many parties skips gen and import")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
