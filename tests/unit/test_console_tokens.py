"""The console calls the services as the signed-in person: a five-minute token of their role and scope per call, and each answer mapped to what the page says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import respx

from services.console.adapters.calls import TOKEN_TTL, Minter, ServiceApi, ServiceRefused, ServiceUnavailable
from services.console.adapters.delivery import DeliveryClient
from services.console.adapters.evidence import EvidenceClient
from services.console.sessions import Visitor
from shared.plumbing.auth import Principal, Role, TokenVerifier
from tests import consoles
from tests.support import SECRET

DELIVERY = "http://delivery.test"
EVIDENCE = "http://evidence.test"
AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def visitor(role: Role, scope: str) -> Visitor:
    return Visitor(session_id="s", user_id="u", username="person", display_name="某人", role=role, scope=scope, csrf_token="c")


@pytest.mark.parametrize(("role", "scope"), [(Role.agent, "agent-huancui-1"), (Role.supervisor, "supervisor"), (Role.court, "C371002"), (Role.lawyer, "31371000MD0543210E")])
def test_the_token_names_the_persons_role_and_scope_and_lives_five_minutes(role: Role, scope: str) -> None:
    token = Minter(secret=SECRET, issuer="songda", now=lambda: AT).token(visitor(role, scope).principal)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="songda", options={"verify_exp": False})
    assert (claims["role"], claims["sub"]) == (role.value, scope)
    assert claims["exp"] - claims["iat"] == TOKEN_TTL.total_seconds() == 300 and claims["iat"] == int(AT.timestamp())
    assert claims["jti"]


def test_the_services_accept_the_token_even_where_they_cap_lifetimes() -> None:
    token = Minter(secret=SECRET, issuer="songda").token(Principal(sub="agent-1", role=Role.agent))
    principal = TokenVerifier(secret=SECRET, issuer="songda", max_ttl=timedelta(minutes=5)).verify(token)
    assert (principal.role, principal.sub) == (Role.agent, "agent-1")


@respx.mock
async def test_each_call_carries_a_fresh_token_of_the_caller() -> None:
    route = respx.get(f"{DELIVERY}/v1/tasks").mock(return_value=httpx.Response(200, json=[consoles.task("t-1").model_dump(mode="json")]))
    async with httpx.AsyncClient() as http:
        delivery = DeliveryClient(ServiceApi(name="delivery", url=DELIVERY, http=http, minter=Minter(secret=SECRET, issuer="songda")))
        [card] = await delivery.tasks(Principal(sub="agent-1", role=Role.agent))
        await delivery.tasks(Principal(sub="agent-1", role=Role.agent))
    tokens = [call.request.headers["authorization"].removeprefix("Bearer ") for call in route.calls]
    assert len(set(tokens)) == 2, "one token per call"
    assert {jwt.decode(t, SECRET, algorithms=["HS256"], issuer="songda")["sub"] for t in tokens} == {"agent-1"}
    assert card.task_id == "t-1" and card.tried[0].channel == "sms"


@respx.mock
async def test_an_outcome_goes_with_its_idempotency_key_and_an_upload_with_its_metadata() -> None:
    reported = respx.post(f"{DELIVERY}/v1/tasks/t-1/outcome").mock(
        return_value=httpx.Response(200, json={"task_id": "t-1", "status": "reported", "recipient_status": "served", "waiting_for_evidence": []})
    )
    uploaded = respx.post(f"{EVIDENCE}/v1/evidence").mock(return_value=httpx.Response(201, json={"id": "ev-1", "kind": "photo", "content_type": "image/jpeg", "flags": ["no_gps"]}))
    caller = Principal(sub="agent-1", role=Role.agent)
    async with httpx.AsyncClient() as http:
        minter = Minter(secret=SECRET, issuer="songda")
        out = await DeliveryClient(ServiceApi(name="delivery", url=DELIVERY, http=http, minter=minter)).report(caller, "t-1", outcome={"outcome": "refused"}, key="k" * 32)
        item = await EvidenceClient(ServiceApi(name="evidence", url=EVIDENCE, http=http, minter=minter)).upload(
            caller, content=b"\xff\xd8jpeg", filename="photo.jpg", content_type="image/jpeg", metadata={"notice_id": "n-1", "kind": "photo", "scene": "refusal"}, key="console:abc"
        )
    assert out.recipient_status == "served" and reported.calls.last.request.headers["idempotency-key"] == "k" * 32
    assert json.loads(reported.calls.last.request.content) == {"outcome": "refused"}
    sent = uploaded.calls.last.request
    assert sent.headers["idempotency-key"] == "console:abc" and b'{"notice_id": "n-1", "kind": "photo", "scene": "refusal"}' in sent.content
    assert item.flags == ["no_gps"]


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (httpx.Response(404, json={"title": "Not found", "detail": "You have no task t-1."}), ServiceRefused),
        (httpx.Response(409, json={"title": "Task already reported", "detail": "…"}), ServiceRefused),
        (httpx.Response(401, json={"title": "Not authenticated", "detail": "bad token"}), ServiceUnavailable),
        (httpx.Response(429, json={}), ServiceUnavailable),
        (httpx.Response(503, json={"title": "Starting"}), ServiceUnavailable),
        (httpx.Response(500, text="boom"), ServiceUnavailable),
        (httpx.ConnectError("refused"), ServiceUnavailable),
    ],
)
@respx.mock
async def test_answers_are_refusals_the_page_shows_or_a_service_that_is_down(answer: httpx.Response | Exception, raised: type[Exception]) -> None:
    route = respx.get(f"{DELIVERY}/v1/tasks/t-1")
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    async with httpx.AsyncClient() as http:
        delivery = DeliveryClient(ServiceApi(name="delivery", url=DELIVERY, http=http, minter=Minter(secret=SECRET, issuer="songda")))
        with pytest.raises(raised) as caught:
            await delivery.task(Principal(sub="agent-1", role=Role.agent), "t-1")
    if isinstance(caught.value, ServiceRefused):
        assert caught.value.status == answer.status_code  # type: ignore[union-attr]
    else:
        assert caught.value.service == "delivery"  # type: ignore[attr-defined]


def test_a_refusal_names_its_fields_or_the_whole_request() -> None:
    named = ServiceRefused(422, {"detail": "…", "errors": [{"field": "witness", "message": "a refusal needs a witness"}]})
    assert named.errors == [{"field": "witness", "message": "a refusal needs a witness"}]
    assert ServiceRefused(422, {"detail": "unreadable"}).errors == [{"field": "", "message": "unreadable"}]


async def test_an_id_that_would_leave_its_path_segment_is_never_sent() -> None:
    async with httpx.AsyncClient() as http:
        delivery = DeliveryClient(ServiceApi(name="delivery", url=DELIVERY, http=http, minter=Minter(secret=SECRET, issuer="songda")))
        for bad in ("../audit-log", "t-1?x=1", "", ".."):
            with pytest.raises(ServiceRefused):
                await delivery.task(Principal(sub="agent-1", role=Role.agent), bad)


@respx.mock
async def test_an_upload_for_a_task_evidence_has_not_heard_of_yet_is_tried_again_under_the_same_key() -> None:
    unheard = httpx.Response(409, json={"title": "Unknown task", "detail": "retry shortly"}, headers={"Retry-After": "2"})
    recorded = httpx.Response(201, json={"id": "ev-1", "kind": "photo", "content_type": "image/jpeg", "flags": []})
    route = respx.post(f"{EVIDENCE}/v1/evidence").mock(side_effect=[unheard, unheard, recorded])
    async with httpx.AsyncClient() as http:
        evidence = EvidenceClient(ServiceApi(name="evidence", url=EVIDENCE, http=http, minter=Minter(secret=SECRET, issuer="songda")), unheard_waits=(0, 0, 0))
        item = await evidence.upload(Principal(sub="agent-1", role=Role.agent), content=b"x", filename="photo.jpg", content_type="image/jpeg", metadata={}, key="console:k")
        assert item.id == "ev-1" and {c.request.headers["idempotency-key"] for c in route.calls} == {"console:k"} and route.call_count == 3
        route.mock(side_effect=[unheard] * 4)
        with pytest.raises(ServiceRefused) as refused:
            await evidence.upload(Principal(sub="agent-1", role=Role.agent), content=b"x", filename="photo.jpg", content_type="image/jpeg", metadata={}, key="console:k")
    assert refused.value.status == 409
