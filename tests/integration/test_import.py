"""`songda import` and `songda gen` as processes against real PostgreSQL: bad rows reported, good rows kept, idempotent, resumable."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import literal_column
from sqlalchemy import select as select_rows

from services.intake import book, importer
from services.intake.models import TABLES as MODELS
from shared.plumbing.db import Database, core_rows, create_tables
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
SONGDA = [sys.executable, "-m", "songda.cli"]
TABLES = ("intake_party", "intake_contact", "intake_address_entry", "intake_confirmation")

GOOD_AND_BAD = [
    {
        "record": "party",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "371002198503124210",
        "phone": "13800138000",
        "address": "山东省威海市环翠区新威路17号",
        "source": "household",
    },
    {"record": "party", "name": "李四", "id_type": "resident_id", "id_number": "371002198503124211", "address": "山东省威海市环翠区新威路18号", "source": "household"},
    {
        "record": "case",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "371002198503124210",
        "case_number": "(2025)鲁1002民初12号",
        "date": "2025-12-01",
        "address": "山东省威海市环翠区海滨北路6号",
    },
    {
        "record": "case",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "371002198503124210",
        "case_number": "（2025）鲁1002民初12号",
        "stage": "appeal",
        "date": "2025-12-01",
        "address": "x路1号",
    },
    {
        "record": "confirmation",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "371002198503124210",
        "case_number": "（2025）鲁1002民初12号",
        "date": "2025-12-05",
        "address": "山东省威海市环翠区海滨北路6号",
        "e_delivery": "sms=13800138000;fax=123",
    },
    {
        "record": "confirmation",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "371002198503124210",
        "case_number": "（2025）鲁1002民初12号",
        "date": "2025-12-05",
        "address": "山东省威海市环翠区海滨北路6号",
        "e_delivery": "sms=13800138000",
    },
    {"record": "party", "name": "王五", "address": "山东省威海市环翠区新威路19号", "source": "household"},
]
EXPECTED_REFUSALS = {
    2: "check digit",  # 李四's ID number
    4: "type code says first_instance",  # stage contradicts 民初
    5: "e_delivery channel 'fax'",
    7: "neither id_number nor phone",
}


def songda(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SONGDA, *args, "--database-url", database_url], cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        return {table: await connection.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}
    finally:
        await connection.close()


async def test_bad_rows_are_reported_by_line_and_good_rows_kept(make_database, tmp_path: Path) -> None:
    database_url = await make_database("intake")
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in GOOD_AND_BAD) + "\n\n")
    first = songda("import", str(path), database_url=database_url)
    assert first.returncode == 2, first.stderr
    assert "3 rows accepted, 4 refused" in first.stdout
    reported = {int(line.split()[1].rstrip(":")): line for line in first.stderr.splitlines() if line.strip().startswith("line ")}
    assert sorted(reported) == sorted(EXPECTED_REFUSALS)
    for line, words in EXPECTED_REFUSALS.items():
        assert words in reported[line]
    loaded = await counts(database_url)
    assert loaded == {"intake_party": 1, "intake_contact": 1, "intake_address_entry": 2, "intake_confirmation": 1}

    again = songda("import", str(path), database_url=database_url)
    assert again.returncode == 2 and "3 rows accepted, 4 refused" in again.stdout
    assert await counts(database_url) == loaded


async def test_csv_import_matches_jsonl(make_database, tmp_path: Path) -> None:
    jsonl, table = tmp_path / "small.jsonl", tmp_path / "small.csv"
    assert subprocess.run([*SONGDA, "gen", "300", "--out", str(jsonl), "--seed", "7", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True).returncode == 0
    assert subprocess.run([*SONGDA, "gen", "300", "--out", str(table), "--seed", "7", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True).returncode == 0
    with table.open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == sum(1 for _ in jsonl.open(encoding="utf-8"))
    from_jsonl, from_csv = await make_database("jsonl"), await make_database("csv")
    assert songda("import", str(jsonl), database_url=from_jsonl).returncode == 0
    assert songda("import", str(table), database_url=from_csv).returncode == 0
    loaded = await counts(from_jsonl)
    assert loaded["intake_party"] == 300
    assert await counts(from_csv) == loaded


async def test_a_killed_import_resumes_and_ends_with_the_same_rows(make_database, tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    subprocess.run([*SONGDA, "gen", "3000", "--out", str(path), "--seed", "3", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True)
    reference, interrupted = await make_database("reference"), await make_database("interrupted")
    assert songda("import", str(path), database_url=reference).returncode == 0

    process = subprocess.Popen([*SONGDA, "import", str(path), "--database-url", interrupted, "--batch-size", "200"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    async def some_batches_committed() -> int:
        try:
            connection = await asyncpg.connect(interrupted)
        except (OSError, asyncpg.PostgresError):
            return 0
        try:
            return await connection.fetchval("SELECT line FROM intake_import WHERE NOT finished AND line > 1000") or 0
        except asyncpg.UndefinedTableError:
            return 0
        finally:
            await connection.close()

    try:
        stopped_at = await eventually(some_batches_committed, timeout=120, what="the import to commit some batches")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    partial = await counts(interrupted)
    assert 0 < partial["intake_party"] < 3000, f"killed after line {stopped_at}, expected a partial import: {partial}"

    resumed = songda("import", str(path), database_url=interrupted)
    assert resumed.returncode == 0, resumed.stderr
    assert await counts(interrupted) == await counts(reference)
    connection = await asyncpg.connect(interrupted)
    try:
        # The resumed run started after the last committed batch, so the file's rows were counted once.
        accepted = await connection.fetchval("SELECT accepted + rejected FROM intake_import")
    finally:
        await connection.close()
    assert accepted == sum(1 for line in path.open(encoding="utf-8") if line.strip())


async def test_a_killed_import_leaves_no_worker_process_behind(make_database, tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    subprocess.run([*SONGDA, "gen", "12000", "--out", str(path), "--seed", "4", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True)
    assert path.stat().st_size >= importer._WORKER_BYTES, "a file large enough to be read by worker processes"
    database_url = await make_database("killed")
    process = subprocess.Popen(
        [*SONGDA, "import", str(path), "--database-url", database_url, "--batch-size", "200"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    async def workers() -> list[str]:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        return [pid for pid in children if b"spawn_main" in _proc(pid, "cmdline")]

    try:
        started = await eventually(workers, timeout=120, what="the import's worker processes")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    async def all_ended() -> bool:
        # An orphan the container's init does not reap stays a zombie: ended all the same.
        return all(_proc(pid, "stat").rpartition(b")")[2].split()[:1] in ([], [b"Z"], [b"X"]) for pid in started)

    await eventually(all_ended, timeout=30, what="the workers to end with the killed import")


def _proc(pid: str, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


async def test_worker_processes_read_a_file_as_the_importing_process_does(make_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mixed.jsonl"
    subprocess.run([*SONGDA, "gen", "200", "--out", str(path), "--seed", "5", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(row, ensure_ascii=False) for row in GOOD_AND_BAD) + "\n\n")
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    imported = {}
    for how, worker_bytes in (("inline", 1 << 40), ("workers", 0)):
        monkeypatch.setattr(importer, "_WORKER_BYTES", worker_bytes)
        url = await make_database(how)
        database = Database(url, pool_size=2)
        try:
            await create_tables(database.engine, MODELS)
            progress = await importer.run_import(database, path, now=lambda: moment, batch_size=97)
        finally:
            await database.dispose()
        imported[how] = progress, await contents(url)
    assert imported["workers"][0].rejected == len(EXPECTED_REFUSALS)
    assert imported["workers"] == imported["inline"]


async def contents(database_url: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(database_url)
    try:
        return {table: sorted(str(tuple(row)) for row in await connection.fetch(f"SELECT * FROM {table}")) for table in (*TABLES, "intake_import", "intake_import_reject")}
    finally:
        await connection.close()


async def test_a_file_overlapping_one_imported_before_adds_only_its_new_facts(make_database, tmp_path: Path) -> None:
    first, overlapping = tmp_path / "first.jsonl", tmp_path / "overlapping.jsonl"
    subprocess.run([*SONGDA, "gen", "300", "--out", str(first), "--seed", "7", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*SONGDA, "gen", "100", "--out", str(overlapping), "--seed", "8", "--today", "2026-11-23"], cwd=ROOT, check=True, capture_output=True)
    # The second file holds every fact of the first, then facts of its own: the book must end as if both were one file.
    overlapping.write_text(first.read_text(encoding="utf-8") + overlapping.read_text(encoding="utf-8"), encoding="utf-8")
    both, alone = await make_database("both"), await make_database("alone")
    for path in (first, overlapping):
        done = songda("import", str(path), "--batch-size", "50", database_url=both)
        assert done.returncode == 0, done.stderr
    assert songda("import", str(overlapping), "--batch-size", "50", database_url=alone).returncode == 0
    assert await facts(both) == await facts(alone)


async def facts(database_url: str) -> dict[str, list[str]]:
    """Returns the address book's rows without the moments they were written at."""
    connection = await asyncpg.connect(database_url)
    try:
        return {table: sorted(str(tuple(v for v in row.values() if not isinstance(v, datetime))) for row in await connection.fetch(f"SELECT * FROM {table}")) for table in TABLES}
    finally:
        await connection.close()


async def test_rows_go_straight_in_while_new_and_the_careful_way_once_one_is_there(make_database) -> None:
    url = await make_database("straight")
    database = Database(url, pool_size=2)
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    kept = book.party_row(party_id="p-1", kind="person", name="张三", name_key="张三", id_type=None, id_number=None, now=moment)
    later = book.party_row(party_id="p-2", kind="person", name="李四", name_key="李四", id_type=None, id_number=None, now=moment)
    try:
        await create_tables(database.engine, MODELS)
        async with database.transaction() as session:
            await core_rows(session, select_rows(literal_column("1")))  # copy_new joins a transaction that has run a statement
            assert await book.copy_new(session, book.PARTY, [kept], straight=True) is True
        async with database.transaction() as session:
            await core_rows(session, select_rows(literal_column("1")))
            assert await book.copy_new(session, book.PARTY, [kept | {"name": "张三丰"}, later], straight=True) is False
    finally:
        await database.dispose()
    connection = await asyncpg.connect(url)
    try:
        names = dict(await connection.fetch("SELECT id, name FROM intake_party"))
    finally:
        await connection.close()
    assert names == {"p-1": "张三", "p-2": "李四"}, "the fact already there kept, the new one added, in the same transaction"
