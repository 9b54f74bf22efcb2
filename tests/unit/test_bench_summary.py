"""`make bench`'s summary: each bench's JSON mapped to rows, ratios against floors, targets marked, the markdown table."""

from __future__ import annotations

from typing import Any

from bench.suite import tail
from bench.summary import NOT_MEASURED, Row, Target, extract, markdown


def figures(name: str, per_second: float, p99_ms: float = 100.0) -> dict[str, Any]:
    """A saved Figures row as bench/measure.py's save writes it."""
    return {"name": name, "count": 100, "seconds": 100 / per_second, "p50_ms": p99_ms / 2, "p90_ms": p99_ms, "p99_ms": p99_ms, "per_second": per_second}


PIPELINE = {
    "args": {"notices": 1000},
    "event_bytes": 2120,
    "cpu_ms_per_notice": {"console": 0.5, "intake": 1.5, "delivery": 1.0, "carrier_gateway": 0.2, "evidence": 1.0, "twilio_sim": 3.0},
    "cpu_ms_per_notice_system": 4.2,
    "cpu_ms_per_notice_servers": {"postgres": 2.0, "kafka": 0.7},
    "rows": [figures("pipeline (HTTP → visible in both)", 150.0), figures("raw aiokafka produce+consume", 3000.0), figures("raw SQL insert (1 tx per row)", 500.0)],
}


def by_figure(rows: list[Row]) -> dict[str, Row]:
    return {row.figure: row for row in rows}


def test_pipeline_rows_carry_floor_ratio_and_mark() -> None:
    rows = by_figure(extract("pipeline", PIPELINE).rows)
    throughput = rows["notices/s, HTTP → visible in both"]
    assert (throughput.value, throughput.floor, throughput.ratio) == (150.0, 3000.0, 0.05)
    assert str(throughput.target) == "ratio ≥ 0.1"
    assert throughput.mark == "✗ short"
    cpu = rows["CPU per notice, whole system (calls and SMS held)"]
    assert (cpu.value, cpu.mark) == (4.2, "✓")


def test_pipeline_prices_its_work_at_the_floors_beside_raw_aiokafka() -> None:
    rows = by_figure(extract("pipeline", PIPELINE | {"work_per_notice": {"kafka_messages": 1.0}, "work_alone": {"per_second": 4500.0}}).rows)
    assert rows["Kafka messages produced per notice"].value == 1.0
    assert rows["PostgreSQL transactions per notice"].mark == NOT_MEASURED
    assert rows["notices/s the work alone allows (floors' CPU)"].ratio == 1.5


def test_pipeline_cpu_row_says_whether_calls_and_sms_went_out_during_the_run() -> None:
    sent = extract("pipeline", PIPELINE | {"args": {"notices": 1000, "send": True}}).rows
    assert "CPU per notice, whole system (calls and SMS sent meanwhile)" in by_figure(sent)


def test_pipeline_cpu_per_process_names_the_servers() -> None:
    cpu = {(c.process, c.ms) for c in extract("pipeline", PIPELINE).cpu}
    assert ("intake", 1.5) in cpu and ("twilio_sim", 3.0) in cpu
    assert ("postgres (the run's backends)", 2.0) in cpu and ("kafka (whole broker, shared)", 0.7) in cpu


def test_a_missing_key_is_not_measured_and_a_missing_floor_has_no_ratio() -> None:
    lookup = {"lookup": figures("lookup", 200.0, p99_ms=30.0), "floor": figures("floor", 2000.0, p99_ms=5.0), "import": {"rows_per_s": 25_000.0}}
    rows = by_figure(extract("address_lookup", lookup).rows)
    assert rows["lookup p99"].ratio == 6.0 and rows["lookup p99"].mark == "✗ short"
    # The COPY floor is not measured yet: the import is still judged by its own target, without a ratio.
    assert (rows["import"].floor, rows["import"].ratio, rows["import"].mark) == (None, None, "✓")
    del lookup["import"]
    assert by_figure(extract("address_lookup", lookup).rows)["import"].mark == NOT_MEASURED


def test_a_failed_bench_keeps_its_rows_marked_failed() -> None:
    rows = extract("delivery", None, failed=True).rows
    assert rows and all(row.mark == "✗ failed" for row in rows)
    assert all(row.mark == NOT_MEASURED for row in extract("delivery", None).rows if row.target)


def test_delivery_shows_the_work_a_notice_costs_without_a_target() -> None:
    document = {
        "rows": [figures("notice (submit → both served)", 20.0), figures("raw aiokafka produce+consume", 4000.0)],
        "work_per_notice": {"kafka_messages": 8.8, "postgres_transactions": 14.7, "http_requests": 9},
        "work_alone": {"cpu_ms": 25.0, "per_second": 80.0, "ratio": 0.02},
    }
    rows = by_figure(extract("delivery", document).rows)
    messages, transactions = rows["Kafka messages produced per notice"], rows["PostgreSQL transactions per notice"]
    assert (messages.value, messages.target, transactions.value, transactions.target) == (8.8, None, 14.7, None)
    assert rows["notices/s, submit → both served by SMS"].ratio == 0.005
    alone = rows["notices/s the work alone allows (floors' CPU)"]
    assert (alone.value, alone.ratio, alone.target) == (80.0, 0.02, None)


def test_delivery_steps_stand_beside_one_transaction_and_name_each_process() -> None:
    steps = {
        "cpu_ms_per_notice": {step: {"bench": 2.0 * (n + 1), "postgres": 0.5, "wall": 9.0} for n, step in enumerate(("consume", "dispatch", "callback"))},
        "floor_cpu_ms_per_transaction": {"sqlalchemy": 0.8, "asyncpg": 0.25},
    }
    summary = extract("delivery_steps", steps)
    callback = by_figure(summary.rows)["apply the delivered callback, CPU per notice"]
    assert (callback.value, callback.floor, callback.ratio) == (6.0, 0.8, 7.5)
    cpu = {(c.per, c.process, c.ms) for c in summary.cpu}
    assert ("notice (consume NoticeRegistered)", "postgres", 0.5) in cpu and ("transaction of one statement (floor)", "asyncpg", 0.25) in cpu
    assert not any(process == "wall" for _, process, _ in cpu), "wall time is not CPU"


def test_evidence_pdf_targets_are_on_the_values() -> None:
    document = {
        "rows": [
            figures("photo ingest (POST /v1/evidence)", 7.0),
            figures("bare sha256 + write + fsync", 10.0),
            figures("report as PDF, served stored", 25.0, p99_ms=250.0),
            figures("raw read of the stored PDF file", 900.0),
        ],
        "cpu_ms_per_photo": 40.0,
        "cpu_ms_per_report_pdf_stored": 3.0,
    }
    rows = by_figure(extract("evidence", document).rows)
    assert rows["photo ingest"].mark == "✓"  # 0.7 ≥ 0.6
    assert rows["report as PDF (served stored)"].mark == "✓"
    assert rows["report as PDF p99 (served stored)"].mark == "✗ short"
    assert rows["report as PDF, first render"].mark == NOT_MEASURED
    assert [(c.per, c.ms) for c in extract("evidence", document).cpu] == [("photo", 40.0), ("report as PDF, served stored", 3.0)]


def test_carrier_reads_the_older_single_figure_too() -> None:
    assert [(c.process, c.ms) for c in extract("carrier", {"cpu_ms_per_push": 7.5}).cpu] == [("carrier_gateway", 7.5)]


def test_target_sides() -> None:
    assert Target("value", "≤", 5).met(5) and not Target("value", "≤", 5).met(5.1)
    assert Target("ratio", "≥", 0.1).met(0.1) and not Target("ratio", "≥", 0.1).met(0.09)


def test_markdown_lists_figures_cpu_and_failures() -> None:
    runs = [
        {"bench": "pipeline", "command": "bench/pipeline.py -n 1000", "status": "ok", "seconds": 61.2, "tail": ""},
        {"bench": "delivery", "command": "bench/delivery.py -n 150", "status": "failed: exit code 1", "seconds": 12.0, "tail": "only 3 of 300 recipients served"},
    ]
    text = markdown([extract("pipeline", PIPELINE), extract("delivery", None, failed=True)], runs, title="Songda benchmarks")
    assert "| pipeline | notices/s, HTTP → visible in both | 150 notices/s | 3,000 (raw aiokafka msg/s) | 0.05 | ratio ≥ 0.1 | ✗ short |" in text
    assert "| pipeline | notice | postgres (the run's backends) | 2 |" in text
    assert "| delivery | notices/s, submit → both served by SMS | — notices/s |" in text
    assert "### delivery: failed: exit code 1\n\n```\nonly 3 of 300 recipients served\n```" in text


def test_tail_shows_each_progress_bar_as_it_last_stood_and_tracebacks_without_frames() -> None:
    output = (
        "starting\n  submitted [#..] 1/3\r  submitted [##.] 2/3\r  submitted [###] 3/3\n"
        'Traceback (most recent call last):\n  File "bench/x.py", line 3, in main\n    await go()\n    ^^^^^^^^^^\n'
        '  File "bench/x.py", line 9, in go\n    raise SystemExit("only 3 of 300 served")\n'
        "SystemExit: only 3 of 300 served\n"
    )
    assert tail(output) == "starting\n  submitted [###] 3/3\nTraceback (most recent call last):\n  …\nSystemExit: only 3 of 300 served"
