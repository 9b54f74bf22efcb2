"""Schemathesis over every service's OpenAPI document: no server error, no status code or content type it does not document.

The four services run as processes on fresh databases and private topics. A notice and an item of evidence are
made first, so the fuzzer also reaches real objects: half the ids it puts in a path are theirs. Each service's
document is read with a token (SONGDA_ENV=test serves /openapi.json to token bearers only) and run through
Schemathesis' engine — its examples, coverage (boundary and invalid values, a missing token, other methods) and
fuzzing phases — with valid tokens: a `service` token (a supervisor's on the few operations the service role is
not admitted to), then court C371002's. The checks are not_a_server_error, status_code_conformance,
content_type_conformance and response_schema_conformance; a 429 counts only where it is undocumented, and the
limits are raised so that it does not hide what is behind it. Each run is bounded in examples per pass and in
time; Hypothesis keeps no example database and its caches go to the test's temporary directory.
SONGDA_FUZZ_SEED, SONGDA_FUZZ_EXAMPLES and SONGDA_FUZZ_SECONDS change the seed and the bounds;
SONGDA_FUZZ_VERBOSE=1 prints what each operation answered.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as engine_events

from shared.plumbing.auth import Role
from songda.devstack import SERVICES
from tests.support import EXAMPLE_NOTICE, eventually, token, upload_examples

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
SEED = int(os.environ.get("SONGDA_FUZZ_SEED", "20260101"))
MAX_EXAMPLES = int(os.environ.get("SONGDA_FUZZ_EXAMPLES", "20"))
SECONDS = int(os.environ.get("SONGDA_FUZZ_SECONDS", "24"))
COURT = token(Role.court, "C371002")
SERVICE = token(Role.service, "songda-fuzz")
SUPERVISOR = token(Role.supervisor, "songda-fuzz")
# Who calls each service, for how many seconds; the engine stops generating when they are spent.
CALLERS = {"service": (SERVICE, SECONDS), "court": (COURT, max(5, SECONDS // 3))}
# The operations the service role is not admitted to: a supervisor's token gets past their 403.
SUPERVISED = [
    "/v1/audit-log",
    "/v1/courts/{court_id}",
    "/v1/courts/{court_id}/webhook",
    "/v1/tasks",
    "/v1/tasks/{task_id}",
    "/v1/tasks/{task_id}/begin",
    "/v1/tasks/{task_id}/outcome",
    "/v1/tasks/{task_id}/reassign",
    "/v1/tasks/{task_id}/receipt.pdf",
    "/v1/tasks/{task_id}/print.pdf",
    "/v1/tasks/{task_id}/documents/{sha256}",
    "/v1/agents/{agent_id}",
    "/v1/notices/{notice_id}/recipients/{recipient_id}/publication",
    "/v1/holds/{recipient_id}/accept",
    "/v1/holds/{recipient_id}/revisit",
]
# The surfaces without a token are rate limited per client address; the fuzzer is one address sending thousands.
UNLIMITED = {f"SONGDA_RATE_LIMIT_{surface}": "1000000/minute" for surface in ("EDELIVERY", "EDELIVERY_MISSES", "WEBHOOKS", "WEBHOOK_FORGERIES", "HEALTH")}
# How often a path parameter that names a real object gets its id rather than a generated value.
REAL_ID_PROBABILITY = 0.5
# Requests per service (both callers) below which the run proves nothing.
MIN_REQUESTS = 200


@schemathesis.serializer("message/rfc822")
def _raw_message(_context: Any, value: Any) -> bytes | None:
    """A mail server's pipe hands delivery a raw message (a bounce or a reply): whatever was generated, as its bytes."""
    if value is None:
        return None
    data = getattr(value, "data", value)
    return data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogateescape")


@dataclass
class Outcome:
    """What one run against one service sent and what its checks found."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    # (check, operation, what it found) → how often, and the first request that showed it, as curl.
    failures: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def failed(self) -> int:
        return sum(count for count, _ in self.failures.values())


def fuzz(base_url: str, authorization: dict[str, str], *, ids: dict[str, str], seconds: int, supervised: bool) -> Outcome:
    """Runs Schemathesis' examples, coverage and fuzzing phases against one service; returns what it saw."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "max-time": seconds,
            "base-url": base_url,
            "headers": authorization,
            "workers": 1,
            "request-timeout": 30,
            # Nothing is kept: no Hypothesis example database, no Schemathesis cache (.schemathesis), no reports.
            "cache": {"enabled": False},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # Stateful testing follows links between operations, which the documents do not declare.
            "phases": {"stateful": {"enabled": False}},
            "auth": {"auto-signup": False},
            "dictionaries": {name: {"values": [value]} for name, value in ids.items()},
            "parameters": {f"path.{name}": {"dictionary": name, "probability": REAL_ID_PROBABILITY} for name in ids},
            "operations": [{"include-path": SUPERVISED, "headers": SUPERVISOR}] if supervised else [],
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config, headers=authorization, timeout=30)
    outcome = Outcome(operations={result.ok().label for result in schema.get_all_operations()})
    for event in from_schema(schema).execute():
        if isinstance(event, engine_events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    outcome.requests += 1
                    outcome.statuses[interaction.response.status_code] += 1
                    outcome.by_operation.setdefault(recorder.label, Counter())[interaction.response.status_code] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.status is Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        outcome.failures.setdefault((check.name, recorder.label, f"{failure.title}: {failure.message}"), [0, check.failure_info.code_sample])[0] += 1
        elif isinstance(event, engine_events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, engine_events.FatalError):
            raise event.exception
        elif isinstance(event, engine_events.EngineFinished):
            outcome.stop_reason = str(event.stop_reason)
            for failure in event.failures:
                outcome.failures.setdefault(("after run", "", f"{failure.title}: {failure.message}"), [0, ""])[0] += 1
    return outcome


async def real_objects(client: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, str]:
    """Submits a notice as court C371002 and records an item of evidence on it; returns their ids once every service knows the notice."""
    await upload_examples(client, urls["intake"], headers=COURT)
    submitted = await client.post(f"{urls['intake']}/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    assert submitted.status_code == 201, submitted.text
    notice_id, recipient_id = submitted.json()["id"], submitted.json()["recipients"][0]["recipient_id"]

    async def known(url: str) -> bool:
        return (await client.get(url, headers=COURT)).status_code == 200

    await eventually(lambda: known(f"{urls['delivery']}/v1/notices/{notice_id}/delivery"), what="delivery to know the notice")
    await eventually(lambda: known(f"{urls['evidence']}/v1/notices/{notice_id}/timeline"), what="evidence to know the notice")
    metadata = {"notice_id": notice_id, "recipient_id": recipient_id, "kind": "call_record", "details": {"note": "made by the fuzz test"}}
    uploaded = await client.post(f"{urls['evidence']}/v1/evidence", files={"metadata": (None, json.dumps(metadata), "application/json")}, headers=SERVICE)
    assert uploaded.status_code == 201, uploaded.text
    return {"notice_id": notice_id, "recipient_id": recipient_id, "evidence_id": uploaded.json()["id"]}


@pytest.fixture
def hypothesis_home(tmp_path: Path) -> Iterator[None]:
    """Keeps Hypothesis' own files (its Unicode and constants caches) in the test's temporary directory, out of the repository."""
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


# make_database before service_stack: the services stop before their databases are dropped.
async def test_every_operation_answers_only_what_its_document_says(kafka, topic_prefix, make_database, service_stack, hypothesis_home) -> None:
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, extra_env=UNLIMITED)
    async with httpx.AsyncClient(timeout=30) as client:
        ids = await real_objects(client, {name: stack.url(name) for name in SERVICES})
    problems: list[str] = []
    for name in SERVICES:
        outcomes: dict[str, Outcome] = {}
        for caller, (authorization, seconds) in CALLERS.items():
            outcome = outcomes[caller] = await asyncio.to_thread(fuzz, stack.url(name), authorization, ids=ids, seconds=seconds, supervised=caller == "service")
            problems += [f"{name} ({caller}) {check} {label}: {what} (×{count})\n{sample}" for (check, label, what), (count, sample) in outcome.failures.items()]
            problems += [f"{name} ({caller}) error {text}" for text in outcome.errors]
            if outcome.stop_reason not in ("completed", "max_time"):
                problems.append(f"{name} ({caller}): the run stopped early: {outcome.stop_reason}")
            if missed := sorted(outcome.operations - set(outcome.by_operation)):
                problems.append(f"{name} ({caller}): no request reached {', '.join(missed)}")
        requests = sum(outcome.requests for outcome in outcomes.values())
        statuses = sum((outcome.statuses for outcome in outcomes.values()), Counter())
        by_caller = ", ".join(f"{caller} {outcome.requests}" for caller, outcome in outcomes.items())
        print(f"fuzz {name}: {requests} requests ({by_caller}), {sum(o.failed for o in outcomes.values())} failures; " + " ".join(f"{s}×{n}" for s, n in sorted(statuses.items())))
        if os.environ.get("SONGDA_FUZZ_VERBOSE"):
            for caller, outcome in outcomes.items():
                for label, counts in sorted(outcome.by_operation.items()):
                    print(f"    {caller} {label}: " + " ".join(f"{s}×{n}" for s, n in sorted(counts.items())))
        if requests < MIN_REQUESTS:
            problems.append(f"{name}: only {requests} requests reached the service, fewer than {MIN_REQUESTS}")
    assert not problems, f"{len(problems)} problems:\n\n" + "\n\n".join(problems)
