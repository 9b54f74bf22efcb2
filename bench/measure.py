"""What every benchmark measures with: latency figures, percentiles, progress, and a run's own databases and topics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.topics import ALL_TOPICS, TopicNames
from songda.devstack import SERVICES, Stack, service_of
from tests.support import KAFKA, POSTGRES


@dataclass
class Figures:
    """Throughput and latency of one measured path."""

    name: str
    count: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    # A floor's CPU ms per unit of work on each side (the bench's client, the server), where measured.
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        """Throughput over the whole run."""
        return self.count / self.seconds


# uvicorn closes a connection idle for 5 s, and a client reusing it just then fails with ReadError (a loaded machine
# stretches the idle time): the benches' HTTP clients let idle connections go well before.
KEEPALIVE_S = 1.0

# Set by bench/suite.py: the file a bench it runs writes its figures to, so the suite reads exactly that run's.
OUT_VARIABLE = "SONGDA_BENCH_OUT"


def save(name: str, args: Any, rows: list[Figures], **facts: Any) -> Path:
    """Writes a run's arguments, facts and figures to $SONGDA_BENCH_OUT or var/bench/<name>-<UTC time>.json; says and returns where."""
    repo = Path(__file__).resolve().parent.parent
    path = Path(os.environ.get(OUT_VARIABLE) or repo / "var" / "bench" / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, **facts, "rows": [asdict(r) | {"per_second": r.per_second} for r in rows]}
    path.write_text(json.dumps(document, indent=2))
    print(f"  figures saved to {path.relative_to(repo) if path.is_relative_to(repo) else path}")
    return path


def percentile(values: list[float], q: float) -> float:
    """Returns the q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def figures(name: str, latencies: list[float], seconds: float) -> Figures:
    """Summarises per-request latencies (ms) over a run of `seconds`."""
    return Figures(name, len(latencies), seconds, percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99))


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Deletes the topics a benchmark created under its own prefix."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([TopicNames(prefix).physical(t) for t in ALL_TOPICS])
    finally:
        await admin.close()


def progress(label: str, done: int, total: int) -> None:
    """Draws a progress bar on stderr, ending the line when done."""
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r  {label:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


async def make_databases(run: str) -> dict[str, str]:
    """Creates a fresh PostgreSQL database per service for one run; returns their URLs by service."""
    connection = await asyncpg.connect(POSTGRES)
    urls = {}
    try:
        for name in SERVICES:
            database = f"bench_{run}_{name}"
            await connection.execute(f'CREATE DATABASE "{database}"')
            urls[name] = POSTGRES.rsplit("/", 1)[0] + f"/{database}"
    finally:
        await connection.close()
    return urls


async def drop_databases(urls: dict[str, str]) -> None:
    """Drops a run's databases."""
    connection = await asyncpg.connect(POSTGRES)
    try:
        for url in urls.values():
            await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


async def messages_on(prefix: str) -> int:
    """Returns how many messages the run's topics (named with `prefix`) have taken so far, over every partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        described = await admin.describe_topics([topic for topic in await admin.list_topics() if topic.startswith(prefix)])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic["topic"], partition["partition"]) for topic in described for partition in topic["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def transactions(urls: dict[str, str], *, settle_s: float = 1.5, timeout_s: float = 60) -> int:
    """Returns the transactions the run's databases have committed or rolled back, read once the count holds still.

    A backend reports its counts to pg_stat_database about a second after it goes idle (and when it ends), so a count
    read at once would leave out the last moments' work.
    """
    names = [url.rsplit("/", 1)[1] for url in urls.values()]
    connection = await asyncpg.connect(POSTGRES)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        count = None
        while True:
            now = await connection.fetchval("SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database WHERE datname = any($1::text[])", names)
            if now == count or asyncio.get_running_loop().time() > deadline:
                return int(now or 0)
            count = now
            await asyncio.sleep(settle_s)
    finally:
        await connection.close()


def cpu_seconds(pid: int) -> float:
    """Returns the CPU time (user + system) a process and its live descendants (a service's typesetting process) have used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_or_none(child) or 0.0 for child in _children(pid))


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()]
    except OSError:
        return []  # the process ended meanwhile


def stack_cpu(stack: Stack) -> dict[str, float]:
    """Returns the CPU seconds each of the stack's processes has used so far."""
    return {name: cpu_seconds(process.pid) for name, process in stack.processes.items()}


def cpu_per_service(stack: Stack, before: dict[str, float], count: int) -> dict[str, float]:
    """Returns the CPU ms each service's processes (its replicas summed) used per unit of work since `before`."""
    spent: dict[str, float] = {}
    for name, process in stack.processes.items():
        service = service_of(name)
        spent[service] = spent.get(service, 0.0) + (cpu_seconds(process.pid) - before[name]) * 1000 / count
    return spent


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""  # the process ended meanwhile


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""  # the process ended meanwhile


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError):
        return None  # the process ended meanwhile


class ServerCpu:
    """CPU the servers spend for one run: the PostgreSQL backends serving its databases and the Kafka broker on KAFKA's port, sampled from /proc.

    PostgreSQL names each backend's database in its process title ("postgres: user database host state"), so only the
    backends of the run's databases count — not other runs on the same server, nor its shared writers. Backends come
    and go, so a thread samples every half second and each keeps its last reading. The broker is one process shared
    by every client on the machine: its figure includes whatever else ran meanwhile.
    """

    def __init__(self, databases: list[str], *, every_s: float = 0.5) -> None:
        self.databases = {f" {name} " for name in databases}
        self.every_s = every_s
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.broker = _broker(KAFKA)
        self.broker_before: float | None = None
        self.broker_after: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ServerCpu:
        self._sample(first=True)
        self.broker_before = _cpu_or_none(self.broker) if self.broker else None
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        self.broker_after = _cpu_or_none(self.broker) if self.broker else None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample(first=False)

    def _sample(self, *, first: bool) -> None:
        for pid in _pids():
            title = _cmdline(pid)
            if title.startswith("postgres: ") and any(name in title for name in self.databases):
                spent = _cpu_or_none(int(pid))
                if spent is not None:
                    # A backend born during the run counts from zero; one present at the start from its first reading.
                    self.first.setdefault(int(pid), spent if first else 0.0)
                    self.last[int(pid)] = spent

    def per(self, units: int) -> dict[str, float]:
        """Returns CPU ms per unit: "postgres" (the run's backends) and "kafka" (the whole broker) when found."""
        spent = {"postgres": sum(self.last[pid] - self.first[pid] for pid in self.last) * 1000 / units}
        if self.broker_before is not None and self.broker_after is not None:
            spent["kafka"] = (self.broker_after - self.broker_before) * 1000 / units
        return spent


def _broker(bootstrap: str) -> int | None:
    """Returns the pid of the broker listening on the bootstrap's port: a java process running kafka.Kafka whose properties name that port."""
    port = bootstrap.rsplit(":", 1)[1]
    for pid in _pids():
        argv = _cmdline(pid).split()
        # Tests may start brokers of their own on other ports; their properties file (the last argument) says which.
        if _comm(pid) == "java" and "kafka.Kafka" in argv:
            try:
                listeners = [line for line in Path(argv[-1]).read_text().splitlines() if line.startswith("listeners=")]
            except OSError:
                continue
            if any(f":{port}," in f"{line}," for line in listeners):
                return int(pid)
    return None


def _pids() -> list[str]:
    return [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()]


async def each(label: str, items: list[Any], concurrency: int, send: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """Runs `send` over the items with `concurrency` at once, drawing a progress bar; returns the results in order."""
    results: list[Any] = [None] * len(items)
    done = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(items)):
        queue.put_nowait(index)

    async def worker() -> None:
        nonlocal done
        while not queue.empty():
            index = queue.get_nowait()
            results[index] = await send(items[index])
            done += 1
            if done % 100 == 0 or done == len(items):
                progress(label, done, len(items))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


@contextmanager
def logs_on_failure(stack: Stack, lines: int = 10) -> Iterator[None]:
    """Prints the last lines each process logged when the block fails, so the reason shows beside the traceback."""
    try:
        yield
    except BaseException:
        for name in stack.processes:
            print(f"\n{name}'s last log lines:\n{stack.tail(name, lines)}", file=sys.stderr)
        raise


@contextmanager
def profiled(processes: dict[str, subprocess.Popen[bytes]], directory: Path | None) -> Iterator[None]:
    """Samples every process with py-spy while the block runs, writing its collapsed stacks to <directory>/<name>.txt; nothing when None."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    # Only samples holding the GIL (--gil): the CPU the process spends in Python, not its waits.
    spies = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(p.pid),
                "--rate",
                "50",
                "--gil",
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, p in processes.items()
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(timeout=60)
        print(f"  profiles written to {directory} (collapsed stacks: python bench/hotspots.py {directory})")
