"""The gateway's evidence client against respx: one multipart upload per receipt scan, keyed by the attempt, with a service token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import jwt
import pytest
import respx

from services.carrier_gateway.adapters.evidence import EvidenceClient, EvidenceRefused, EvidenceUnavailable
from shared.plumbing.auth import Role, TokenVerifier

URL = "http://evidence.test"
SECRET = "songda-unit-secret-at-least-32-characters"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client() -> EvidenceClient:
    return EvidenceClient(url=URL, secret=SECRET, issuer="songda", http=httpx.AsyncClient(), now=lambda: NOW)


async def upload(evidence: EvidenceClient) -> str:
    return await evidence.upload_receipt_scan(PNG, content_type="image/png", notice_id="n-1", attempt_id="a-1", recipient_id="r-1", waybill_no="1190000000017")


def parts(request: httpx.Request) -> dict[str, Message]:
    """Returns the multipart body's parts by name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    return {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}  # type: ignore[attr-defined]


async def test_a_scan_goes_up_as_file_and_metadata_with_the_attempts_key_and_a_service_token(api: respx.MockRouter) -> None:
    route = api.post(f"{URL}/v1/evidence").respond(201, json={"id": "ev-1", "kind": "return_receipt_scan"})

    evidence_id = await upload(client())

    request = route.calls.last.request
    sent = parts(request)
    assert evidence_id == "ev-1"
    assert request.headers["Idempotency-Key"] == "receipt-scan:a-1"
    assert (sent["file"].get_payload(decode=True), sent["file"].get_content_type(), sent["file"].get_filename()) == (PNG, "image/png", "receipt-1190000000017.png")
    assert json.loads(sent["metadata"].get_payload(decode=True)) == {
        "notice_id": "n-1",
        "kind": "return_receipt_scan",
        "attempt_id": "a-1",
        "recipient_id": "r-1",
        "details": {"waybill_no": "1190000000017"},
    }
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="songda", options={"verify_exp": False, "verify_iat": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("carrier_gateway", "service", 300)


async def test_a_token_minted_on_the_wall_clock_passes_the_services_check(api: respx.MockRouter) -> None:
    route = api.post(f"{URL}/v1/evidence").respond(201, json={"id": "ev-1"})

    await upload(EvidenceClient(url=URL, secret=SECRET, issuer="songda", http=httpx.AsyncClient()))

    token = route.calls.last.request.headers["Authorization"].removeprefix("Bearer ")
    principal = TokenVerifier(secret=SECRET, issuer="songda").verify(token)
    assert (principal.sub, principal.role) == ("carrier_gateway", Role.service)


async def test_an_upload_already_recorded_answers_the_same_id(api: respx.MockRouter) -> None:
    api.post(f"{URL}/v1/evidence").mock(side_effect=[httpx.Response(201, json={"id": "ev-1"}), httpx.Response(200, json={"id": "ev-1"})])
    evidence = client()

    assert [await upload(evidence), await upload(evidence)] == ["ev-1", "ev-1"]


@pytest.mark.parametrize("answer", [httpx.Response(503), httpx.Response(409, json={"detail": "race"}), httpx.Response(201, text="<html>"), httpx.ConnectError("refused")])
async def test_outages_races_and_garbled_answers_are_worth_another_try(api: respx.MockRouter, answer: httpx.Response | Exception) -> None:
    api.post(f"{URL}/v1/evidence").mock(side_effect=[answer])

    with pytest.raises(EvidenceUnavailable):
        await upload(client())


async def test_an_unknown_notice_is_refused_with_evidences_reason(api: respx.MockRouter) -> None:
    problem = {"title": "Invalid evidence", "status": 422, "detail": "metadata.notice_id: evidence knows no notice n-1"}
    api.post(f"{URL}/v1/evidence").respond(422, json=problem, headers={"content-type": "application/problem+json"})

    with pytest.raises(EvidenceRefused) as refused:
        await upload(client())

    assert (refused.value.status, refused.value.detail) == (422, problem["detail"])
