"""Runs the services, the console and the simulators as local processes: for `songda run/up/down`, end-to-end and browser tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx

from shared.plumbing.auth import Role, mint
from shared.plumbing.settings import DEV_JWT_SECRET

SERVICES: dict[str, int] = {"console": 8000, "intake": 8001, "delivery": 8002, "carrier_gateway": 8003, "evidence": 8004}
# The services the console calls, each at the base URL its CONSOLE_<NAME>_URL setting names.
CONSOLE_CALLS = ("intake", "delivery", "evidence")
# Stand-ins for outside providers, run beside the services so their real clients are exercised.
SIMULATORS: dict[str, int] = {"ems_sim": 8010, "twilio_sim": 8011, "mail_sink": 8012}
# Where the mail sink takes SMTP in `make run`; other stacks get a free port (see Stack.smtp_port).
MAIL_SINK_SMTP_PORT = 8025
PROCESSES: dict[str, int] = {**SERVICES, **SIMULATORS}
ENV_PREFIX = {name: name.upper() + "_" for name in PROCESSES}


class StackError(RuntimeError):
    """A service did not come up."""


@dataclass
class Stack:
    """The services as child processes sharing one environment."""

    env: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=lambda: dict(PROCESSES))
    log_dir: Path = Path("var/log")
    run_dir: Path = Path("var/run")
    # The mail sink's SMTP port, its second listener: None picks 8025 when the sink is on its usual port
    # (`make run`), else a free port once, so stacks on free ports (tests) never collide on it.
    smtp_port: int | None = None
    # Services run as several processes: the first is named as the service, the others "<service>.2" and on. They
    # share the service's port (the kernel spreads connections among them) and each also listens on a port of its own.
    replicas: Mapping[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    replica_ports: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.smtp_port is None and "mail_sink" in self.ports:
            usual = self.ports["mail_sink"] == SIMULATORS["mail_sink"]
            self.smtp_port = MAIL_SINK_SMTP_PORT if usual else _free_port()
        for service, count in self.replicas.items():
            for index in range(count if count > 1 else 0):
                self.replica_ports[replica_name(service, index)] = _free_port()

    def url(self, service: str) -> str:
        """Returns a service's base URL (any of its replicas answers)."""
        return f"http://127.0.0.1:{self.ports[service_of(service)]}"

    def own_url(self, name: str) -> str:
        """Returns the URL only this process answers: a replica's own port, else the service's."""
        return f"http://127.0.0.1:{self.replica_ports[name]}" if name in self.replica_ports else self.url(name)

    def wiring(self) -> dict[str, str]:
        """Tells each process where the others listen: delivery's public URL, the Twilio and EMS simulators, evidence, the mail sink, the services the console calls.

        The mail sink takes SMTP on `smtp_port`, and delivery sends its e-mail there.
        """
        wires = {}
        if "delivery" in self.ports:
            wires["DELIVERY_PUBLIC_URL"] = self.url("delivery")
        if "twilio_sim" in self.ports:
            wires["DELIVERY_TWILIO_ORIGIN"] = self.url("twilio_sim")
            if "delivery" in self.ports:
                # The number's incoming-message webhook: a reply simulated at /sim/inbound goes there, signed for that URL.
                wires["TWILIO_SIM_SMS_URL"] = f"{self.url('delivery')}/webhooks/twilio/inbound"
        if "ems_sim" in self.ports:
            wires["CARRIER_GATEWAY_EMS_ORIGIN"] = self.url("ems_sim")
            if "carrier_gateway" in self.ports:
                wires["EMS_SIM_PUSH_URL"] = f"{self.url('carrier_gateway')}/webhooks/ems"
        if "evidence" in self.ports and "carrier_gateway" in self.ports:
            wires["CARRIER_GATEWAY_EVIDENCE_URL"] = self.url("evidence")
        if "console" in self.ports:
            wires.update({f"CONSOLE_{name.upper()}_URL": self.url(name) for name in CONSOLE_CALLS if name in self.ports})
        # One document store for intake (which writes it) and delivery (which reads it), named absolutely so that every
        # process shares it whatever its working directory: the one configured, else the stack's var/documents.
        env = {**os.environ, **self.env}
        documents = env.get("SONGDA_DOCUMENTS_DIR") or Path(env.get("SONGDA_VAR_DIR") or "var") / "documents"
        wires["SONGDA_DOCUMENTS_DIR"] = str(Path(documents).resolve())
        # Likewise one holiday calendar for every process: what the console imports, each service reads.
        calendar = env.get("SONGDA_CALENDAR_DIR") or Path(env.get("SONGDA_VAR_DIR") or "var") / "calendar"
        wires["SONGDA_CALENDAR_DIR"] = str(Path(calendar).resolve())
        if "mail_sink" in self.ports:
            wires["MAIL_SINK_SMTP_PORT"] = wires["DELIVERY_SMTP_PORT"] = str(self.smtp_port)
            wires["DELIVERY_SMTP_HOST"] = "127.0.0.1"
            if "delivery" in self.ports:
                wires["MAIL_SINK_DSN_URL"] = f"{self.url('delivery')}/webhooks/mail/dsn"
                wires["MAIL_SINK_REPLY_URL"] = f"{self.url('delivery')}/webhooks/mail/inbound"
        return wires

    def start(self, *, echo: IO[str] | None = None) -> None:
        """Starts every service in `ports`, each in its own session; with `echo`, output is copied there too."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for service in self.ports:
            for name in self.names_of(service):
                self.start_one(name, echo=echo)

    def names_of(self, service: str) -> list[str]:
        """Returns the names of a service's processes: the service's, then its other replicas'."""
        return [replica_name(service, index) for index in range(max(self.replicas.get(service, 1), 1))]

    def start_one(self, name: str, *, echo: IO[str] | None = None) -> subprocess.Popen[bytes]:
        """Starts one service (or one replica of it), logging to <log_dir>/<name>.log."""
        service = service_of(name)
        env = {**os.environ, **self.wiring(), **self.env, f"{ENV_PREFIX[service]}PORT": str(self.ports[service])}
        command = [sys.executable, "-m", "songda.cli", "serve", service]
        if name in self.replica_ports:
            command += ["--replica-port", str(self.replica_ports[name])]
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 — closed here or by the echo thread
        if echo is None:
            with log:
                process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        else:
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            threading.Thread(target=_copy_lines, args=(process, name, log, echo), daemon=True).start()
        self.processes[name] = process
        (self.run_dir / f"{name}.pid").write_text(str(process.pid))
        return process

    def wait_healthy(self, *, timeout: float = 90.0) -> None:
        """Waits until every service answers /healthz with its consumer assigned; raises StackError otherwise."""
        pending = set(self.processes)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, headers=self.overseer_headers()) as client:
            while pending:
                for name in sorted(pending):
                    process = self.processes.get(name)
                    if process is not None and process.poll() is not None:
                        raise StackError(f"{name} exited with code {process.returncode}; see {self.log_dir / f'{name}.log'}\n{self.tail(name)}")
                    if _ready(client, self.own_url(name)):
                        pending.discard(name)
                if pending and time.monotonic() > deadline:
                    raise StackError(f"not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}; logs in {self.log_dir}")
                if pending:
                    time.sleep(0.2)

    def overseer_headers(self) -> dict[str, str]:
        """Returns the Authorization header of a short-lived service token, which /healthz answers in full."""
        env = {**os.environ, **self.env}
        secret, issuer = env.get("SONGDA_JWT_SECRET", DEV_JWT_SECRET), env.get("SONGDA_JWT_ISSUER", "songda")
        token = mint(secret=secret, role=Role.service, sub="songda-devstack", issuer=issuer, now=datetime.now(UTC), ttl=timedelta(minutes=10))
        return {"Authorization": f"Bearer {token}"}

    def exited(self) -> str | None:
        """Returns what the first process that has exited said last, or None while every one runs."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return f"{name} exited with code {process.returncode}:\n{self.tail(name)}"
        return None

    def tail(self, name: str, lines: int = 20) -> str:
        """Returns the last lines a service logged."""
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Sends a signal to one service and waits for it to exit."""
        process = self.processes[name]
        process.send_signal(sig)
        process.wait(timeout=60)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stops every service: SIGTERM, then SIGKILL for any that outstay the timeout."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        self.processes.clear()


def replica_name(service: str, index: int) -> str:
    """Names a service's process: the first replica (index 0) by the service's name, the others "<service>.<n>"."""
    return service if index == 0 else f"{service}.{index + 1}"


def service_of(name: str) -> str:
    """Returns the service a process name belongs to ("delivery.2" → "delivery")."""
    return name.split(".", 1)[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(client: httpx.Client, base: str) -> bool:
    try:
        response = client.get(f"{base}/healthz")
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    return response.json()["kafka"]["consumer"] in ("assigned", "none")


def _copy_lines(process: subprocess.Popen[bytes], name: str, log: IO[bytes], echo: IO[str]) -> None:
    assert process.stdout is not None
    with log:
        for raw in process.stdout:
            log.write(raw)
            log.flush()
            echo.write(f"{name:>15} | {raw.decode(errors='replace')}")
            echo.flush()


def stop_recorded(run_dir: Path, *, timeout: float = 30.0) -> list[str]:
    """Stops services started detached by an earlier `songda up`, found through their pid files."""
    stopped = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        name = pid_file.stem
        if service_of(name) not in PROCESSES:
            continue
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink(missing_ok=True)
            continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)
        stopped.append(name)
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return finished == 0
