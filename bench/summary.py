"""What `make bench` reports: each bench's saved JSON mapped to rows (figure, floor, ratio, target) and written as markdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Target:
    """A bound on a row's value or on its ratio to the floor, as issue 18's table states it."""

    on: str  # "ratio" or "value"
    op: str  # "≥" or "≤"
    bound: float

    def met(self, value: float) -> bool:
        """Says whether `value` stays on the right side of the bound."""
        return value >= self.bound if self.op == "≥" else value <= self.bound

    def __str__(self) -> str:
        return f"{self.on} {self.op} {number(self.bound)}"


@dataclass
class Row:
    """One figure of one bench, beside its floor when it has one."""

    bench: str
    figure: str
    value: float | None
    unit: str
    floor: float | None = None
    floor_name: str = ""
    target: Target | None = None
    failed: bool = False

    @property
    def ratio(self) -> float | None:
        """The figure over its floor, when both were measured."""
        return self.value / self.floor if self.value is not None and self.floor else None

    @property
    def mark(self) -> str:
        """✓ when the target is met, "✗ short" when not; failed, not measured, or empty for a row without a target."""
        if self.failed:
            return "✗ failed"
        measured = self.ratio if self.target and self.target.on == "ratio" else self.value
        if measured is None:
            return NOT_MEASURED
        if self.target is None:
            return ""
        return "✓" if self.target.met(measured) else "✗ short"

    def as_dict(self) -> dict[str, Any]:
        """Returns the row for summary.json: its fields, the ratio, the target as text and the mark."""
        return asdict(self) | {"target": str(self.target) if self.target else None, "ratio": self.ratio, "mark": self.mark}


@dataclass(frozen=True)
class Cpu:
    """CPU one process (or server) spent per unit of a bench's work."""

    bench: str
    per: str
    process: str
    ms: float


@dataclass
class Summary:
    """One bench's rows and CPU figures."""

    rows: list[Row] = field(default_factory=list)
    cpu: list[Cpu] = field(default_factory=list)


def number(value: float | None) -> str:
    """Formats a figure with as many digits as it needs: 12,345 · 123 · 12.3 · 1.23 · 0.0000123."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    # Three significant digits, never in exponent notation: 0.0000428, not 4.28e-05.
    return format(Decimal(f"{value:.3g}"), "f")


def dig(document: Any, *keys: str) -> Any:
    """Returns document[k1][k2]…, or None where a key is missing (a bench that does not measure it yet)."""
    for key in keys:
        if not isinstance(document, dict) or document.get(key) is None:
            return None
        document = document[key]
    return document


def row_named(document: dict[str, Any], start: str) -> dict[str, Any]:
    """Returns the first of a bench's saved rows whose name starts with `start`, or {} when there is none."""
    return next((row for row in document.get("rows") or [] if str(row.get("name", "")).startswith(start)), {})


def _processes(bench: str, per: str, spent: Any, names: dict[str, str] | None = None) -> list[Cpu]:
    """Turns {process: ms} into CPU rows, renaming where `names` says how to read a figure."""
    if not isinstance(spent, dict):
        return []
    return [Cpu(bench, per, (names or {}).get(name, name), float(ms)) for name, ms in spent.items() if isinstance(ms, int | float)]


SERVERS = {"postgres": "postgres (the run's backends)", "kafka": "kafka (whole broker, shared)"}


def _work(bench: str, document: dict[str, Any], kafka: dict[str, Any]) -> list[Row]:
    """The work a notice costs, which a feature can add to without any one step getting slower, and what that work alone would allow at the floors' CPU: where a target stands against the design rather than the code."""
    return [
        Row(bench, "Kafka messages produced per notice", dig(document, "work_per_notice", "kafka_messages"), "messages"),
        Row(bench, "PostgreSQL transactions per notice", dig(document, "work_per_notice", "postgres_transactions"), "transactions"),
        Row(bench, "notices/s the work alone allows (floors' CPU)", dig(document, "work_alone", "per_second"), "notices/s", kafka.get("per_second"), "raw aiokafka msg/s"),
    ]


def pipeline(document: dict[str, Any]) -> Summary:
    """HTTP submit → visible in delivery and evidence, against raw aiokafka; and the whole system's CPU per notice."""
    flow, kafka = row_named(document, "pipeline"), row_named(document, "raw aiokafka")
    # Sending is the delivery bench's; a run with --send counts whatever part of it fell before the last notice was visible.
    sending = "calls and SMS sent meanwhile" if dig(document, "args", "send") else "calls and SMS held"
    rows = [
        Row("pipeline", "notices/s, HTTP → visible in both", flow.get("per_second"), "notices/s", kafka.get("per_second"), "raw aiokafka msg/s", Target("ratio", "≥", 0.1)),
        Row("pipeline", "p99 latency, HTTP → visible in both", flow.get("p99_ms"), "ms", kafka.get("p99_ms"), "raw aiokafka p99 ms"),
        Row("pipeline", f"CPU per notice, whole system ({sending})", dig(document, "cpu_ms_per_notice_system"), "ms", target=Target("value", "≤", 5)),
        *_work("pipeline", document, kafka),
    ]
    cpu = _processes("pipeline", "notice", document.get("cpu_ms_per_notice"))
    cpu += _processes("pipeline", "notice", document.get("cpu_ms_per_notice_servers"), SERVERS)
    return Summary(rows, cpu)


def delivery(document: dict[str, Any]) -> Summary:
    """Submit → both recipients served by SMS, against raw aiokafka."""
    flow, kafka = row_named(document, "notice (submit"), row_named(document, "raw aiokafka")
    rows = [
        Row("delivery", "notices/s, submit → both served by SMS", flow.get("per_second"), "notices/s", kafka.get("per_second"), "raw aiokafka msg/s", Target("ratio", "≥", 0.03)),
        Row("delivery", "p99 latency, submit → both served", flow.get("p99_ms"), "ms", kafka.get("p99_ms"), "raw aiokafka p99 ms"),
        Row("delivery", "CPU per notice, whole system", dig(document, "cpu_ms_per_notice_system"), "ms"),
        *_work("delivery", document, kafka),
    ]
    cpu = _processes("delivery", "notice", document.get("cpu_ms_per_notice"))
    cpu += _processes("delivery", "notice", document.get("cpu_ms_per_notice_servers"), SERVERS)
    return Summary(rows, cpu)


def carrier(document: dict[str, Any]) -> Summary:
    """Signed EMS pushes → TrackingUpdated on Kafka, against raw aiokafka (no target in the issue)."""
    flow, kafka = row_named(document, "push → TrackingUpdated"), row_named(document, "raw aiokafka")
    rows = [Row("carrier", "pushes/s, push → TrackingUpdated", flow.get("per_second"), "pushes/s", kafka.get("per_second"), "raw aiokafka msg/s")]
    spent = document.get("cpu_ms_per_push")
    cpu = _processes("carrier", "push", spent if isinstance(spent, dict) else {"carrier_gateway": spent} if spent is not None else None)
    cpu += _processes("carrier", "push", document.get("cpu_ms_per_push_servers"), SERVERS)
    return Summary(rows, cpu)


def address_lookup(document: dict[str, Any]) -> Summary:
    """Lookup p99 against the bare indexed reads; import rows/s against PostgreSQL COPY of the same rows."""
    copy = dig(document, "import", "copy_rows_per_second")
    rows = [
        Row("address_lookup", "lookup p99", dig(document, "lookup", "p99_ms"), "ms", dig(document, "floor", "p99_ms"), "bare indexed reads p99 ms", Target("ratio", "≤", 3)),
        Row("address_lookup", "lookups/s", dig(document, "lookup", "per_second"), "lookups/s", dig(document, "floor", "per_second"), "bare indexed reads/s"),
        Row("address_lookup", "import", dig(document, "import", "rows_per_s"), "rows/s", copy, "PostgreSQL COPY rows/s", Target("value", "≥", 20_000)),
    ]
    cpu = []
    for path, per in (("lookup", "lookup"), ("floor", "bare read (floor)")):
        cpu += _processes("address_lookup", per, dig(document, "cpu_ms_per_lookup", path))
    return Summary(rows, cpu)


def evidence(document: dict[str, Any]) -> Summary:
    """Photo ingest against bare sha256 + write + fsync; the delivery report as PDF against its absolute targets."""
    photo, bare = row_named(document, "photo ingest"), row_named(document, "bare sha256")
    stored, first, raw = row_named(document, "report as PDF, served stored"), row_named(document, "report as PDF, first render"), row_named(document, "raw read of the stored PDF")
    rows = [
        Row("evidence", "photo ingest", photo.get("per_second"), "photos/s", bare.get("per_second"), "bare sha256+write+fsync/s", Target("ratio", "≥", 0.6)),
        Row("evidence", "report as PDF (served stored)", stored.get("per_second"), "reports/s", raw.get("per_second"), "raw PDF file reads/s", Target("value", "≥", 20)),
        Row("evidence", "report as PDF p99 (served stored)", stored.get("p99_ms"), "ms", raw.get("p99_ms"), "raw PDF file read p99 ms", Target("value", "≤", 200)),
        Row("evidence", "report as PDF, first render", first.get("per_second"), "reports/s"),
    ]
    cpu = _processes("evidence", "photo", {"evidence": document["cpu_ms_per_photo"]} if "cpu_ms_per_photo" in document else None)
    for key, per in (("json", "report as JSON"), ("pdf_first", "report as PDF, first render"), ("pdf_stored", "report as PDF, served stored")):
        if f"cpu_ms_per_report_{key}" in document:
            cpu.append(Cpu("evidence", per, "evidence", float(document[f"cpu_ms_per_report_{key}"])))
    return Summary(rows, cpu)


def workdays(document: dict[str, Any]) -> Summary:
    """is_working_day with a watched calendar against a bare set lookup (no target in the issue)."""
    rows = [
        Row(
            "workdays", "is_working_day (watched calendar)", dig(document, "cpu_ns_per_call", "watched"), "ns/call", dig(document, "cpu_ns_per_call", "floor"), "set lookup ns/call"
        )
    ]
    spent = document.get("cpu_ns_per_call")
    cpu = [Cpu("workdays", f"call ({name})", "bench", ns / 1e6) for name, ns in spent.items()] if isinstance(spent, dict) else []
    return Summary(rows, cpu)


STEPS = {"consume": "consume NoticeRegistered", "dispatch": "dispatch an SMS, apply the answer", "callback": "apply the delivered callback"}


def delivery_steps(document: dict[str, Any]) -> Summary:
    """Delivery's steps in one process, each beside one transaction of one statement through SQLAlchemy (no target in the issue)."""
    floor = dig(document, "floor_cpu_ms_per_transaction", "sqlalchemy")
    rows = [
        Row("delivery_steps", f"{label}, CPU per notice", dig(document, "cpu_ms_per_notice", step, "bench"), "ms", floor, "one SQLAlchemy transaction ms")
        for step, label in STEPS.items()
    ]
    cpu = [
        Cpu("delivery_steps", f"notice ({label})", process, ms)
        for step, label in STEPS.items()
        for process, ms in (dig(document, "cpu_ms_per_notice", step) or {}).items()
        if process != "wall"
    ]
    cpu += [Cpu("delivery_steps", "transaction of one statement (floor)", via, ms) for via, ms in (dig(document, "floor_cpu_ms_per_transaction") or {}).items()]
    return Summary(rows, cpu)


EXTRACTORS: dict[str, Callable[[dict[str, Any]], Summary]] = {
    "pipeline": pipeline,
    "delivery": delivery,
    "carrier": carrier,
    "address_lookup": address_lookup,
    "evidence": evidence,
    "workdays": workdays,
    "delivery_steps": delivery_steps,
}


def extract(bench: str, document: dict[str, Any] | None, *, failed: bool = False) -> Summary:
    """Maps a bench's JSON to its rows; without JSON every row is still there, marked failed when the bench failed, else not measured."""
    summary = EXTRACTORS[bench](document or {})
    for row in summary.rows:
        row.failed = failed
    return summary


def markdown(summaries: list[Summary], runs: list[dict[str, Any]], *, title: str) -> str:
    """Writes the figures, the CPU per unit of work and the runs (with each failure's output tail) as markdown."""
    lines = [f"# {title}", "", "| bench | figure | value | floor | ratio | target | mark |", "|---|---|---|---|---|---|---|"]
    for row in (row for summary in summaries for row in summary.rows):
        floor = f"{number(row.floor)} ({row.floor_name})" if row.floor_name else ""
        lines.append(f"| {row.bench} | {row.figure} | {number(row.value)} {row.unit} | {floor} | {number(row.ratio)} | {row.target or ''} | {row.mark} |")
    lines += ["", "## CPU per unit of work, per process", "", "| bench | per | process | CPU ms |", "|---|---|---|---|"]
    lines += [f"| {cpu.bench} | {cpu.per} | {cpu.process} | {number(cpu.ms)} |" for summary in summaries for cpu in summary.cpu]
    lines += ["", "## Runs", "", "| bench | command | status | seconds |", "|---|---|---|---|"]
    lines += [f"| {run['bench']} | `{run['command']}` | {run['status']} | {run['seconds']:.0f} |" for run in runs]
    for run in runs:
        if run["status"] != "ok":
            lines += ["", f"### {run['bench']}: {run['status']}", "", "```", run["tail"], "```"]
    return "\n".join(lines) + "\n"
