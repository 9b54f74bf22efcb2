"""The `songda` command: dev tokens, serving a service, topics, the local stack, the console's users, imports, the holiday calendar, and checking delivery reports."""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from shared.plumbing.auth import Role, TokenTooLong, mint
from shared.plumbing.settings import CommonSettings

if TYPE_CHECKING:
    from services.console.deps import ConsoleDeps
    from songda.demo import Demo
    from songda.devstack import Stack

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
SERVICE_MODULES = {
    "console": "services.console",
    "intake": "services.intake",
    "delivery": "services.delivery",
    "carrier_gateway": "services.carrier_gateway",
    "evidence": "services.evidence",
    "ems_sim": "simulators.ems_sim",
    "twilio_sim": "simulators.twilio_sim",
    "mail_sink": "simulators.mail_sink",
}


def _duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return timedelta(seconds=float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"expected a duration like 30m, 12h or 7d, got {text!r}") from None


def cmd_token(args: argparse.Namespace) -> int:
    """Prints a signed token; outside development no longer-lived than SONGDA_TOKEN_MAX_TTL_HOURS."""
    settings = CommonSettings()
    try:
        token = mint(
            secret=settings.jwt_secret,
            role=Role(args.role),
            sub=args.sub,
            issuer=settings.jwt_issuer,
            now=datetime.now(UTC),
            ttl=args.ttl,
            max_ttl=settings.token_max_ttl,
            user=args.user,
        )
    except TokenTooLong as exc:
        print(f"token: refused: {exc} (SONGDA_TOKEN_MAX_TTL_HOURS; SONGDA_ENV={settings.env.value})", file=sys.stderr)
        return 2
    print(token)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revokes a token (or a token id) in every service: they refuse it once they have read the revocation."""
    import jwt

    from shared.contracts.topics import REVOCATIONS, TopicNames
    from shared.plumbing.revocations import Revocation, revoke

    settings = CommonSettings()
    now = datetime.now(UTC)
    if args.token.count(".") == 2:
        try:
            claims = jwt.decode(args.token, settings.jwt_secret, algorithms=["HS256"], issuer=settings.jwt_issuer, options={"verify_exp": False})
        except jwt.InvalidTokenError as exc:
            print(f"revoke: not one of our tokens: {exc}", file=sys.stderr)
            return 2
        jti, expires_at = str(claims.get("jti", "")), datetime.fromtimestamp(int(claims["exp"]), UTC)
        if not jti:
            print("revoke: the token has no jti; tokens without one are refused everywhere already", file=sys.stderr)
            return 2
    else:
        # A bare id: keep it as long as any token could still live.
        jti, expires_at = args.token, now + timedelta(hours=settings.token_max_ttl_hours) if settings.token_max_ttl else now + timedelta(days=3650)
    revocation = Revocation(jti=jti, expires_at=expires_at, revoked_at=now, reason=args.reason)
    try:
        asyncio.run(revoke(bootstrap=settings.kafka_bootstrap, topic=TopicNames(settings.topic_prefix).physical(REVOCATIONS), revocation=revocation))
    except Exception as exc:  # noqa: BLE001 — reported to the operator, who needs the reason, not a traceback
        print(f"revoke: could not reach Kafka at {settings.kafka_bootstrap}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"revoke: token {jti} revoked (it would have expired {expires_at.isoformat()})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Runs one service under uvicorn; exits non-zero when a supervised task died."""
    import uvicorn

    from shared.plumbing import heap, logs

    package = SERVICE_MODULES[args.service]
    main = importlib.import_module(f"{package}.main")
    config_module = importlib.import_module(f"{package}.config")
    settings_class = next(v for k, v in vars(config_module).items() if k.endswith("Settings") and v.__module__ == config_module.__name__)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = settings_class(**overrides)
    logs.configure(level=settings.common.log_level, fmt=settings.common.log_format, service=args.service)
    refused = _replicas_refused(settings, args.service) if args.replica_port is not None else None
    if refused:
        print(f"serve: {refused}", file=sys.stderr)
        return 2
    app = main.create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.common.forwarded_allow_ips,
    )
    server = uvicorn.Server(config)
    heap.settle()
    server.run(sockets=_replica_sockets(settings.host, settings.port, args.replica_port) if args.replica_port is not None else None)
    runtime = app.state.runtime  # None for a simulator, which supervises no tasks
    if not server.started or (runtime is not None and runtime.supervisor.failed):
        return 1
    return 0


# The services shown to run correctly as several processes on one database (tests/e2e/test_delivery_kill.py,
# tests/e2e/test_intake_replicas.py).
REPLICABLE = ("delivery", "intake")


def _replicas_refused(settings: object, service: str) -> str | None:
    """Returns why the service cannot run as one of several replicas, or None."""
    from shared.plumbing.settings import ServiceSettings

    if service not in REPLICABLE:
        return f"only {' and '.join(REPLICABLE)} run as several replicas; {service} runs as one process"
    if not isinstance(settings, ServiceSettings) or not settings.resolved_database_url(service).startswith(("postgresql", "postgres")):
        # Replicas keep each outside call (shared/plumbing/ledger.py) and the outbox's publishing (shared/plumbing/outbox.py)
        # to one of them with PostgreSQL's advisory locks.
        return f"replicas of {service} need a PostgreSQL database ({service.upper()}_DATABASE_URL)"
    return None


def _replica_sockets(host: str, port: int, replica_port: int) -> list[socket.socket]:
    """Returns the service's port, shared with its other replicas (the kernel spreads connections among them), and this replica's own port."""
    shared = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    shared.bind((host, port))
    own = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.bind((host, replica_port))
    return [shared, own]


def cmd_topics(args: argparse.Namespace) -> int:
    """Creates Songda's Kafka topics that are missing."""
    from shared.contracts.topics import create_topics

    settings = CommonSettings()
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    prefix = settings.topic_prefix if args.prefix is None else args.prefix
    try:
        created = asyncio.run(create_topics(bootstrap, prefix=prefix))
    except Exception as exc:  # noqa: BLE001 — reported to the operator, who needs the reason, not a traceback
        print(f"topics: could not reach Kafka at {bootstrap}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"topics: created {len(created)} ({', '.join(created)})" if created else "topics: all present")
    return 0


def _kafka(action: str) -> None:
    subprocess.run(["bash", str(REPO / "deploy" / "kafka" / f"{action}.sh")], check=True)


def _kafka_running() -> bool:
    pid_file = REPO / "var" / "kafka" / "kafka.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def _demo_accounts() -> list:
    """Adds the console's demo accounts that are missing (development only) and returns them all for the banner."""
    from services.console.config import ConsoleSettings
    from services.console.demo import DEMO_ACCOUNTS
    from services.console.handlers import people
    from services.console.main import offline
    from shared.plumbing.settings import Environment

    settings = ConsoleSettings()
    if settings.common.env is not Environment.development:
        return []

    async def add() -> None:
        async with offline(settings) as deps:
            await people.add_missing(deps, accounts=DEMO_ACCOUNTS)

    asyncio.run(add())
    return list(DEMO_ACCOUNTS)


def _banner(stack, accounts: list) -> str:
    settings = CommonSettings()
    # Tokens expire in real time whatever the domain clock says: PyJWT checks exp against the wall clock.
    now = datetime.now(UTC)
    court = mint(secret=settings.jwt_secret, role=Role.court, sub="C371002", issuer=settings.jwt_issuer, now=now)
    supervisor = mint(secret=settings.jwt_secret, role=Role.supervisor, sub="dev-supervisor", issuer=settings.jwt_issuer, now=now)
    lines = ["", "Songda is running:", "", f"  Console (sign in here): {stack.url('console')}"]
    lines += [f"    {account.role.value:<11} {account.username:<16} password {account.password}" for account in accounts]
    lines.append("")
    for name in SERVICE_MODULES:
        if name != "console":
            lines.append(f"  {name:<16} {stack.url(name)}   (OpenAPI: {stack.url(name)}/openapi.json)")
    lines += [
        "",
        f"E-mail that delivery sends stops in the mail sink: {stack.url('mail_sink')}",
        "",
        "Dev tokens (12 h; mint others with `.venv/bin/songda token --role ROLE --sub ID`):",
        f"  court C371002  {court}",
        f"  supervisor     {supervisor}",
        "",
        "Try:",
        f"  TOKEN={court}",
        f'  for f in docs/examples/*.pdf; do curl -s -X POST {stack.url("intake")}/v1/documents -H "Authorization: Bearer $TOKEN" -F file=@$f; done',
        f"  curl -s -X POST {stack.url('intake')}/v1/notices -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d @docs/examples/notice.json",
        "",
    ]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Starts Kafka and the services in the foreground until Ctrl-C."""
    from songda.devstack import Stack, StackError

    started_kafka = not _kafka_running()
    _kafka("start")
    accounts = _demo_accounts()
    stack = Stack(log_dir=REPO / "var" / "log", run_dir=REPO / "var" / "run")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start(echo=sys.stdout if args.verbose else None)
        stack.wait_healthy()
        print(_banner(stack, accounts), flush=True)
        print(f"Logs: {stack.log_dir}/<service>.log. Press Ctrl-C to stop.", flush=True)
        while not stopping:
            if (exited := stack.exited()) is not None:
                print(exited, file=sys.stderr)
                stopping = True
            time.sleep(0.3)
    except StackError as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping services…", flush=True)
        stack.stop()
        if started_kafka:
            _kafka("stop")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Starts Kafka and the services in the background and returns once all are healthy."""
    from songda.devstack import Stack, StackError, stop_recorded

    run_dir = REPO / "var" / "run"
    stop_recorded(run_dir)
    marker = run_dir / "kafka.started-by-up"
    if not _kafka_running():
        _kafka("start")
        run_dir.mkdir(parents=True, exist_ok=True)
        marker.touch()
    else:
        _kafka("start")  # already running: only makes sure the topics exist
    accounts = _demo_accounts()
    stack = Stack(log_dir=REPO / "var" / "log", run_dir=run_dir)
    stack.start()
    try:
        stack.wait_healthy()
    except StackError as exc:
        print(f"up: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(_banner(stack, accounts))
    print("Stop with `make down`.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Starts the whole system on a scaled clock in var/demo, seeds a court's day and works it with a robot colleague until Ctrl-C."""
    from shared.contracts.topics import create_topics
    from shared.plumbing.clock import ScaledClock
    from songda import demo
    from songda.devstack import Stack, StackError

    started_kafka = not _kafka_running()
    _kafka("start")
    now = datetime.now(UTC)
    # The morning begins about when the stack is up and the day is seeded (10–25 s on two cores).
    clock = ScaledClock(epoch=demo.next_morning(now), anchor=now + timedelta(seconds=15), scale=args.scale)
    var_dir = demo.fresh_folder(REPO / "var" / "demo")
    # Topics of its own, so that neither an earlier demo nor `make run` leaks into this one.
    prefix = f"demo{now:%Y%m%d%H%M%S}."
    asyncio.run(create_topics(CommonSettings().kafka_bootstrap, prefix=prefix))
    os.environ.update(demo.demo_environment(var_dir, clock, prefix=prefix))
    accounts = _demo_accounts()
    stack = Stack(log_dir=var_dir / "log", run_dir=var_dir / "run")
    stopping = asyncio.Event()
    try:
        stack.start()
        stack.wait_healthy()
        print(_banner(stack, accounts), flush=True)
        print(f"The demo's day starts {demo.day_label(clock)} and runs {args.scale:g} times faster than real time. Today:", flush=True)
        print(demo.story(), flush=True)
        print(f"Sign in to {stack.url('console')} as {demo.YOUR_AGENT} to work your visits. Logs: {stack.log_dir}. Ctrl-C stops.", flush=True)
        asyncio.run(_demo_until_stopped(demo.Demo(urls={name: stack.url(name) for name in stack.ports}, clock=clock), stack, stopping))
    except StackError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping services…", flush=True)
        stack.stop()
        if started_kafka:
            _kafka("stop")
    return 0


async def _demo_until_stopped(running: Demo, stack: Stack, stopping: asyncio.Event) -> None:
    """Plays the demo until Ctrl-C or a service exits."""
    from songda import demo

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    play = asyncio.create_task(demo.play(running, stopping=stopping))
    while not stopping.is_set() and not play.done():
        if (exited := stack.exited()) is not None:
            print(exited, file=sys.stderr)
            stopping.set()
        await asyncio.sleep(0.3)
    stopping.set()
    await play


def cmd_down(args: argparse.Namespace) -> int:
    """Stops what `songda up` started."""
    from songda.devstack import stop_recorded

    run_dir = REPO / "var" / "run"
    stopped = stop_recorded(run_dir)
    print(f"down: stopped {', '.join(stopped)}" if stopped else "down: no services were running")
    marker = run_dir / "kafka.started-by-up"
    if marker.exists():
        _kafka("stop")
        marker.unlink()
    return 0


def _console(work: Callable[[ConsoleDeps], Awaitable[T]]) -> T:
    """Runs `work(deps)` on the console's database (CONSOLE_DATABASE_URL, else var/console.db) and returns its result."""
    from services.console.config import ConsoleSettings
    from services.console.main import offline

    async def run() -> T:
        async with offline(ConsoleSettings()) as deps:
            return await work(deps)

    return asyncio.run(run())


def cmd_user_add(args: argparse.Namespace) -> int:
    """Adds a console user; the password is asked for twice unless --password gives it."""
    from pydantic import ValidationError

    from services.console.accounts import NewUser
    from services.console.handlers import people
    from shared.plumbing.problems import Problem

    password = args.password
    if password is None:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("user: the two passwords differ; nothing was added", file=sys.stderr)
            return 2
    try:
        user = NewUser(username=args.username, role=args.role, scope=args.scope or "", display_name=args.name or "", password=password)
    except ValidationError as exc:
        for error in exc.errors():
            print(f"user: {'.'.join(str(p) for p in error['loc']) or 'user'}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    try:
        added = _console(lambda deps: people.add_user(deps, user=user))
    except Problem as exc:
        print(f"user: {exc.detail}", file=sys.stderr)
        return 1
    print(f"user: added {added.username} ({added.role} {added.scope})")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """Lists the console's users: username, role, scope, name and whether they may sign in."""
    from services.console.handlers import people

    now = datetime.now(UTC)
    rows = _console(lambda deps: people.users(deps))
    print(f"{'username':<24} {'role':<11} {'scope':<20} {'state':<26} name")
    for user in rows:
        state = "disabled" if user.disabled else f"locked until {user.locked_until:%Y-%m-%d %H:%M} UTC" if user.locked_until and user.locked_until > now else "active"
        print(f"{user.username:<24} {user.role:<11} {user.scope:<20} {state:<26} {user.display_name}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    """Disables a console user and ends their sessions at once."""
    from services.console.handlers import people

    if not _console(lambda deps: people.disable_user(deps, username=args.username)):
        print(f"user: no user {args.username}", file=sys.stderr)
        return 1
    print(f"user: disabled {args.username}; their sessions have ended")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Imports historical cases, parties and confirmations into intake's address book; exits 2 when rows were refused."""
    from tqdm import tqdm

    from services.intake.config import IntakeSettings
    from services.intake.importer import Progress, rejects, run_import
    from services.intake.models import TABLES
    from shared.plumbing import heap
    from shared.plumbing.clock import clock_from_settings
    from shared.plumbing.db import Database, create_tables

    path = Path(args.file)
    if not path.is_file():
        print(f"import: no such file: {path}", file=sys.stderr)
        return 1
    settings = IntakeSettings()
    clock = clock_from_settings(settings.common)

    size = path.stat().st_size

    async def run() -> tuple[Progress, list, float, int]:
        database = Database(args.database_url or settings.database_url, pool_size=2)
        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"import {path.name}", disable=None, dynamic_ncols=True)
        started = time.monotonic()
        try:
            await create_tables(database.engine, TABLES)

            def show(progress: Progress) -> None:
                bar.update(progress.byte_offset - bar.n)
                bar.set_postfix(accepted=progress.accepted, rejected=progress.rejected, refresh=False)

            progress = await run_import(database, path, now=clock.now, batch_size=args.batch_size, on_progress=show)
            refused = await rejects(database, path)
        finally:
            bar.close()
            await database.dispose()
        return progress, refused, time.monotonic() - started, progress.read

    # The committing process holds each batch's records too: the same collector settings as a server's.
    heap.settle()
    try:
        progress, refused, seconds, rows = asyncio.run(run())
    except ValueError as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 1
    print(f"import: {path.name}: {progress.accepted} rows accepted, {progress.rejected} refused ({rows / max(seconds, 1e-9):,.0f} rows/s this run over {seconds:.1f} s)")
    for reject in refused[: args.show]:
        print(f"  line {reject.line}: {reject.reason}", file=sys.stderr)
    if len(refused) > args.show:
        print(f"  … and {len(refused) - args.show} more (all of them: --show {len(refused)})", file=sys.stderr)
    return 2 if refused else 0


def cmd_calendar_import(args: argparse.Namespace) -> int:
    """Checks a year file of holidays and make-up workdays and writes it, atomically, where every service reads the calendar."""
    from shared.plumbing import holidays

    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"calendar import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        year = holidays.read_year(raw)
    except holidays.YearRefused as refused:
        print(f"calendar import: {path.name} refused, nothing written:", file=sys.stderr)
        for flaw in refused.flaws:
            print(f"  {flaw.field or '(file)'}: {flaw.text}", file=sys.stderr)
        return 2
    directory = CommonSettings().calendar
    replaced = (directory / holidays.file_name(year.year)).exists()
    target = holidays.save(directory, year)
    print(
        f"calendar import: {year.year} {'replaced' if replaced else 'imported'} into {target}: {len(year.holidays)} holidays ({len(year.rest)} days off), "
        f"{len(year.workdays)} make-up workdays; services use it within seconds, without a restart"
    )
    return 0


def cmd_gen(args: argparse.Namespace) -> int:
    """Writes a synthetic data set of parties, cases and confirmations as JSONL or CSV (by the file's extension)."""
    import csv
    import json

    from tqdm import tqdm

    from services.intake.synthetic import COLUMNS, rows

    path = Path(args.out)
    today = datetime.fromisoformat(args.today).date() if args.today else datetime.now(UTC).date()
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle, tqdm(total=args.parties, unit=" parties", desc=f"gen {path.name}", disable=None) as bar:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS) if path.suffix.lower() == ".csv" else None
        if writer:
            writer.writeheader()
        for row in rows(args.parties, seed=args.seed, today=today):
            if writer:
                writer.writerow(row)
            else:
                handle.write(json.dumps({k: v for k, v in row.items() if v}, ensure_ascii=False) + "\n")
            written += 1
            if row["record"] == "party" and row["source"] == "household":
                bar.update(1)
    print(f"gen: {args.parties} parties in {written} rows → {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Checks a delivery report offline; exit status 1 when anything does not hold."""
    from songda.verify import verify_report

    try:
        document = json.loads(Path(args.report).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"verify: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    verdict = verify_report(document, blobs=Path(args.blobs) if args.blobs else None, key=args.key, documents=[Path(name) for name in args.document])
    for line in verdict.passed:
        print(f"ok    {line}")
    for line in verdict.problems:
        print(f"FAIL  {line}")
    print(f"verify: {args.report}: " + ("the report holds" if verdict.ok else f"{len(verdict.problems)} problem(s)"))
    return 0 if verdict.ok else 1


def cmd_keygen(args: argparse.Namespace) -> int:
    """Prints a new Ed25519 seed for EVIDENCE_SIGNING_SEED and its public key."""
    from shared.contracts.checkpoints import new_seed, private_key_from_seed, public_key_bytes

    seed = new_seed()
    print(f"EVIDENCE_SIGNING_SEED={seed}")
    print(f"# public key (give it to courts for `songda verify --key`): {base64.b64encode(public_key_bytes(private_key_from_seed(seed))).decode()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describes the command line."""
    parser = argparse.ArgumentParser(prog="songda", description="Songda (送达): service of process for Chinese courts.")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="print a dev token signed with SONGDA_JWT_SECRET")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True, help="court id, agent id, firm id, … the token speaks for")
    token.add_argument("--ttl", type=_duration, default=timedelta(hours=12), help="lifetime, e.g. 30m, 12h (default 12h; at most SONGDA_TOKEN_MAX_TTL_HOURS outside development)")
    token.add_argument("--user", help="the person's username (the token's usr claim), e.g. the lawyer named on an acknowledgement")
    token.set_defaults(func=cmd_token)

    revoke = sub.add_parser("revoke", help="revoke a token in every service (give the token or its jti)")
    revoke.add_argument("token", help="the token itself, or its jti")
    revoke.add_argument("--reason", default="", help="why, kept with the revocation")
    revoke.set_defaults(func=cmd_revoke)

    serve = sub.add_parser("serve", help="run one service (uvicorn)")
    serve.add_argument("service", choices=list(SERVICE_MODULES))
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--replica-port",
        type=int,
        help="run as one of several replicas (delivery or intake, on PostgreSQL): share --port with the others (SO_REUSEPORT) and listen alone on this one",
    )
    serve.set_defaults(func=cmd_serve)

    topics = sub.add_parser("topics", help="create Songda's Kafka topics that are missing")
    topics.add_argument("--bootstrap", help="host:port (default SONGDA_KAFKA_BOOTSTRAP)")
    topics.add_argument("--prefix", help="topic name prefix (default SONGDA_TOPIC_PREFIX)")
    topics.set_defaults(func=cmd_topics)

    run = sub.add_parser("run", help="start Kafka and every service in the foreground (Ctrl-C stops)")
    run.add_argument("--verbose", "-v", action="store_true", help="echo every service's log lines here")
    run.set_defaults(func=cmd_run)
    sub.add_parser("up", help="start Kafka and every service in the background").set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what `songda up` started").set_defaults(func=cmd_down)
    demo = sub.add_parser("demo", help="start everything on a scaled clock with a court's day of scripted notices and a robot colleague (Ctrl-C stops)")
    demo.add_argument("--scale", type=float, default=540.0, help="domain seconds per real second (default 540: a nine-hour working day in a minute)")
    demo.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="add, list and disable the console's users").add_subparsers(dest="action", required=True)
    user_add = user.add_parser("add", help="add a user (asks for the password twice unless --password gives it)")
    user_add.add_argument("--username", required=True, help="lower-case letters, digits, '.', '_' and '-'")
    user_add.add_argument("--role", required=True, choices=["court", "agent", "supervisor", "lawyer", "auditor"])
    user_add.add_argument("--scope", help="court id (court), agent id (agent), the firm's USCC (lawyer); a supervisor's or auditor's is the username")
    user_add.add_argument("--name", help="the name the console shows (default: the username)")
    user_add.add_argument("--password", help="at least 10 characters (default: asked for; avoid putting it in the shell's history)")
    user_add.set_defaults(func=cmd_user_add)
    user.add_parser("list", help="list the users").set_defaults(func=cmd_user_list)
    user_disable = user.add_parser("disable", help="disable a user and end their sessions")
    user_disable.add_argument("username")
    user_disable.set_defaults(func=cmd_user_disable)

    importer = sub.add_parser("import", help="import historical cases, parties and confirmations (JSONL or CSV) into the address book")
    importer.add_argument("file", help="a .jsonl or .csv file with the columns of docs/import.md")
    importer.add_argument("--database-url", help="intake's database (default INTAKE_DATABASE_URL)")
    importer.add_argument("--batch-size", type=int, default=2000, help="rows per transaction (default 2000)")
    importer.add_argument("--show", type=int, default=20, help="how many refused rows to print (default 20)")
    importer.set_defaults(func=cmd_import)

    calendar = sub.add_parser("calendar", help="the holiday calendar past the package's last year").add_subparsers(dest="action", required=True)
    calendar_import = calendar.add_parser("import", help="check a year file (docs/calendar.md) and write it to SONGDA_CALENDAR_DIR for every service")
    calendar_import.add_argument("file", help="a JSON year file: year, source, holidays, workdays")
    calendar_import.set_defaults(func=cmd_calendar_import)

    gen = sub.add_parser("gen", help="write a realistic synthetic data set for `songda import`")
    gen.add_argument("parties", type=int, help="how many parties")
    gen.add_argument("--out", required=True, help="output file, .jsonl or .csv")
    gen.add_argument("--seed", type=int, default=0, help="the same seed gives the same data (default 0)")
    gen.add_argument("--today", help="the data set's last day, YYYY-MM-DD (default today); cases span the two years before")
    gen.set_defaults(func=cmd_gen)

    verify = sub.add_parser("verify", help="check a delivery report offline: its hash, checkpoint signature, evidence proofs, blobs and served documents")
    verify.add_argument("report", help="a report as GET /v1/reports/{notice_id} returns it")
    verify.add_argument("--blobs", help="a directory of evidence files named by sha256 (flat or as the blob store lays them out)")
    verify.add_argument("--key", help="the evidence log's public key (base64) to pin, instead of the one the report carries")
    verify.add_argument("--document", nargs="+", default=[], metavar="FILE", help="files said to be the served documents: each must be one the report lists (by sha256)")
    verify.set_defaults(func=cmd_verify)

    sub.add_parser("keygen", help="print a new signing seed for the evidence log").set_defaults(func=cmd_keygen)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `songda` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
