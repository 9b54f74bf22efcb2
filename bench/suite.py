"""`make bench`: runs every benchmark as a subprocess at a size that keeps the whole under ten minutes, then writes var/bench/summary.md and summary.json.

Each bench saves its figures to the file named by $SONGDA_BENCH_OUT (bench/measure.py's save); bench/summary.py maps
each file to rows beside their floors and issue 18's targets. A bench that fails (or overruns its budget) is shown as
failed with the tail of its output, the others still run, and the suite exits non-zero. address_lookup is skipped
(its rows "not measured") while its database exists, kept or in use: loading afresh would destroy it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.address_lookup import DATABASE as LOOKUP_DATABASE  # noqa: E402 — the repo root must be importable first
from bench.measure import OUT_VARIABLE  # noqa: E402
from bench.summary import Summary, extract, markdown  # noqa: E402
from tests.support import POSTGRES  # noqa: E402

OUT = REPO / "var" / "bench"
TAIL_LINES = 30
FRAME = "  …"


@dataclass(frozen=True)
class Bench:
    """One benchmark as the suite runs it: its script and arguments, and the seconds it may take before it is stopped."""

    name: str
    args: tuple[str, ...]
    budget_s: float
    # A file the bench writes instead of $SONGDA_BENCH_OUT (address_lookup.py saves to a fixed name).
    fixed_output: str | None = None
    # A database with a fixed name that the bench drops and loads afresh (address_lookup's).
    fixed_database: str | None = None

    def command(self) -> list[str]:
        """Returns the command line that runs the bench with this interpreter."""
        return [sys.executable, f"bench/{self.name}.py", *self.args]


# Sizes for the whole to stay under ten minutes on a quiet 2-core machine at issue 18's starting speeds (address_lookup's
# import is most of it); each budget stops a bench that overruns on a busy machine (its own --timeout fails it first).
BENCHES = (
    Bench("workdays", (), 60),
    Bench("carrier", ("-n", "300", "--timeout", "150"), 180),
    Bench("delivery", ("-n", "150", "--timeout", "200", "--delivery-replicas", "2"), 240),
    Bench("delivery_steps", ("-n", "1000"), 120),
    Bench("pipeline", ("-n", "500", "--batch", "100", "--timeout", "300", "--intake-replicas", "2", "--delivery-replicas", "2"), 360),
    Bench("evidence", ("-n", "120", "-r", "8", "--rounds", "3"), 180),
    # 3,000 lookups a round: a pause of the whole machine delays all sixteen in flight at once, which in 1,000 was over
    # the 1% a p99 leaves out, so one pause set the round's p99.
    Bench("address_lookup", ("--parties", "100000", "--lookups", "3000"), 420, fixed_output="address_lookup.json", fixed_database=LOOKUP_DATABASE),
)


def database_exists(name: str) -> bool:
    """Says whether the test server holds a database of that name."""

    async def look() -> bool:
        connection = await asyncpg.connect(POSTGRES)
        try:
            return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await connection.close()

    return asyncio.run(look())


def run(bench: Bench, index: int, total: int, stamp: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Runs one bench with its output shown as it comes; returns its saved JSON (None if it saved none) and how the run went."""
    out = OUT / f"{bench.name}-{stamp}.json"
    log = OUT / "logs" / f"{bench.name}-{stamp}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"\n[{index}/{total}] {bench.name}: {' '.join(bench.command()[1:])} (budget {bench.budget_s:.0f} s)", flush=True)
    result: dict[str, Any] = {"bench": bench.name, "command": " ".join(bench.command()[1:]), "log": str(log.relative_to(REPO)), "json": None, "seconds": 0.0, "tail": ""}
    # Loading afresh would destroy it: a run going on, or one kept with --keep (a million parties take 12 minutes to load).
    if bench.fixed_database and database_exists(bench.fixed_database):
        result |= {"status": "skipped", "tail": f"the database {bench.fixed_database} exists (a run going on, or kept with --keep): drop it to measure"}
        print(f"  skipped: {result['tail']}", flush=True)
        return None, result
    started, began = time.time(), time.monotonic()
    status = _execute(bench, out, log)
    found = out if out.exists() else OUT / bench.fixed_output if bench.fixed_output else None
    document = None
    if status == "ok" and found and found.exists() and found.stat().st_mtime >= started:
        document = json.loads(found.read_text())
        result["json"] = str(found.relative_to(REPO))
    elif status == "ok":
        status = "failed: no figures saved"
    # Bytes, decoded: reading as text would turn each progress bar's \r into a line of its own.
    result |= {"status": status, "seconds": time.monotonic() - began, "tail": "" if status == "ok" else tail(log.read_bytes().decode(errors="replace"))}
    print(f"  {bench.name}: {status} in {result['seconds']:.0f} s", flush=True)
    return document, result


def _execute(bench: Bench, out: Path, log: Path) -> str:
    """Runs the bench, copying its output to ours and to the log; interrupts it (so it stops its services) past its budget."""
    overran = False
    with log.open("wb") as copy:
        process = subprocess.Popen(bench.command(), cwd=REPO, env={**os.environ, OUT_VARIABLE: str(out)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        deadline = time.monotonic() + bench.budget_s
        while True:
            chunk = process.stdout.read()  # None while nothing is waiting, b"" at the end
            if chunk:
                copy.write(chunk)
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            elif process.poll() is not None:
                break
            if time.monotonic() > deadline:
                if overran:
                    process.kill()
                else:
                    # SIGINT, as ^C would: the bench's finally blocks stop its services and drop its databases.
                    process.send_signal(signal.SIGINT)
                    overran, deadline = True, time.monotonic() + 60
            time.sleep(0.1)
    if overran:
        return f"failed: over its budget of {bench.budget_s:.0f} s"
    return "ok" if process.returncode == 0 else f"failed: exit code {process.returncode}"


def tail(output: str) -> str:
    """Returns the last lines of a bench's output: each progress bar (redrawn with \\r) as it last stood, tracebacks without their frames."""
    lines = []
    for line in output.replace("\r\n", "\n").split("\n"):
        line = line.rsplit("\r", 1)[-1]
        # A frame is "  File …" and its indented source lines; the exceptions and the logs around them are what say why.
        if line.startswith("  File ") or (line.startswith("    ") and lines and lines[-1] == FRAME):
            if not lines or lines[-1] != FRAME:
                lines.append(FRAME)
            continue
        if line.strip():
            lines.append(line)
    return "\n".join(lines[-TAIL_LINES:])


def main(args: argparse.Namespace) -> int:
    """Runs the chosen benches one after another, then writes the summary; returns non-zero when any failed."""
    chosen = [bench for bench in BENCHES if not args.only or bench.name in args.only]
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    began = time.monotonic()
    summaries: list[Summary] = []
    runs = []
    for index, bench in enumerate(chosen, 1):
        document, result = run(bench, index, len(chosen), stamp)
        summaries.append(extract(bench.name, document, failed=result["status"].startswith("failed")))
        runs.append(result)
    wall = time.monotonic() - began
    title = f"Songda benchmarks, {stamp} ({wall:.0f} s)"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.md").write_text(markdown(summaries, runs, title=title))
    rows = [row.as_dict() for summary in summaries for row in summary.rows]
    cpu = [vars(c) for summary in summaries for c in summary.cpu]
    (OUT / "summary.json").write_text(json.dumps({"started": stamp, "wall_seconds": wall, "rows": rows, "cpu": cpu, "runs": runs}, indent=2, ensure_ascii=False))
    print(f"\n{(OUT / 'summary.md').read_text()}\nsummary written to var/bench/summary.md and summary.json ({wall:.0f} s in all)")
    return 1 if any(r["status"].startswith("failed") for r in runs) else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=[bench.name for bench in BENCHES], help="run only these benches")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse_args()))
