"""Bearer tokens: minting, verification failures as 401 problems, and role checks on routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from shared.plumbing import auth, problems
from shared.plumbing.auth import ALGORITHM, Principal, Role, TokenTooLong, TokenVerifier, mint, require
from shared.plumbing.problems import Problem
from shared.plumbing.revocations import Revocation, RevocationList

SECRET = "unit-test-secret-of-at-least-32-characters"
ISSUER = "songda-test"
VERIFIER = TokenVerifier(secret=SECRET, issuer=ISSUER)


def now() -> datetime:
    return datetime.now(UTC)


def token(role: Role = Role.court, sub: str = "C371002", **overrides: Any) -> str:
    arguments: dict[str, Any] = {"secret": SECRET, "role": role, "sub": sub, "issuer": ISSUER, "now": now(), **overrides}
    return mint(**arguments)


def raw_token(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def valid_claims() -> dict[str, Any]:
    return {"sub": "C371002", "role": "court", "iss": ISSUER, "jti": "j-1", "iat": int(now().timestamp()), "exp": int((now() + timedelta(hours=1)).timestamp())}


def jti_of(raw: str) -> str:
    return jwt.decode(raw, SECRET, algorithms=[ALGORITHM], issuer=ISSUER)["jti"]


@pytest.mark.parametrize("role", list(Role))
def test_round_trip(role: Role) -> None:
    raw = token(role=role, sub="subject-1")
    assert VERIFIER.verify(raw) == Principal(sub="subject-1", role=role, jti=jti_of(raw))


def test_minted_claims() -> None:
    issued = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    claims = jwt.decode(
        mint(secret=SECRET, role=Role.agent, sub="A1", issuer=ISSUER, now=issued, ttl=timedelta(minutes=5)),
        SECRET,
        algorithms=[ALGORITHM],
        options={"verify_exp": False},
        issuer=ISSUER,
    )
    assert len(claims.pop("jti")) == 32
    assert claims == {"sub": "A1", "role": "agent", "iss": ISSUER, "iat": int(issued.timestamp()), "exp": int(issued.timestamp()) + 300}


def test_a_signed_in_persons_username_rides_as_usr() -> None:
    raw = token(role=Role.lawyer, sub="31371000MD0543210E", user="lawyer-demo")
    assert jwt.decode(raw, SECRET, algorithms=[ALGORITHM], issuer=ISSUER)["usr"] == "lawyer-demo"
    assert VERIFIER.verify(raw) == Principal(sub="31371000MD0543210E", role=Role.lawyer, jti=jti_of(raw), user="lawyer-demo")
    # No username: no claim, and the caller's user is empty.
    assert "usr" not in jwt.decode(token(user=None), SECRET, algorithms=[ALGORITHM], issuer=ISSUER)
    assert VERIFIER.verify(token()).user == ""


def test_every_token_has_its_own_id() -> None:
    assert len({jti_of(token()) for _ in range(50)}) == 50


def test_minting_refuses_a_lifetime_above_the_maximum() -> None:
    with pytest.raises(TokenTooLong, match="at most 24 h; 240 h was asked"):
        token(ttl=timedelta(days=10), max_ttl=timedelta(hours=24))
    assert token(ttl=timedelta(hours=24), max_ttl=timedelta(hours=24))


def expect_401(raw: str, detail: str) -> None:
    with pytest.raises(Problem) as info:
        VERIFIER.verify(raw)
    assert info.value.status == 401
    assert info.value.headers == {"WWW-Authenticate": "Bearer"}
    assert detail in info.value.detail


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        pytest.param(token(now=now() - timedelta(hours=13)), "expired", id="expired"),
        pytest.param(token(ttl=timedelta(seconds=-1)), "expired", id="expired-at-once"),
        pytest.param(token(secret="another-secret-of-at-least-32-characters"), "not valid", id="wrong-secret"),
        pytest.param(token(issuer="someone-else"), "not valid", id="wrong-issuer"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "iss"}), "not valid", id="no-issuer"),
        pytest.param(raw_token({**valid_claims(), "role": "janitor"}), "unknown role 'janitor'", id="unknown-role"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "exp"}), "not valid", id="no-exp"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "sub"}), "not valid", id="no-sub"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "role"}), "not valid", id="no-role"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "jti"}), "not valid", id="no-jti"),
        pytest.param(raw_token({k: v for k, v in valid_claims().items() if k != "iat"}), "not valid", id="no-iat"),
        pytest.param(jwt.encode(valid_claims(), None, algorithm="none"), "not valid", id="alg-none"),
        pytest.param("not.a.token", "not valid", id="garbage"),
    ],
)
def test_invalid_token(raw: str, detail: str) -> None:
    expect_401(raw, detail)


def test_raw_valid_claims_accepted() -> None:
    # The claims the failure cases above strip one by one are enough on their own.
    assert VERIFIER.verify(raw_token(valid_claims())) == Principal(sub="C371002", role=Role.court, jti="j-1")


@pytest.mark.parametrize(
    ("principal", "court", "expected"),
    [
        (Principal("C1", Role.court), "C1", True),
        (Principal("C1", Role.court), "C2", False),
        (Principal("C1", Role.agent), "C1", False),
        (Principal("C1", Role.supervisor), "C1", False),
    ],
)
def test_is_court_needs_the_role_and_the_id(principal: Principal, court: str, expected: bool) -> None:
    assert principal.is_court(court) is expected


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    capped = TokenVerifier(secret=SECRET, issuer=ISSUER, max_ttl=timedelta(hours=24))
    ten_years = raw_token({**valid_claims(), "exp": int((now() + timedelta(days=3650)).timestamp())})
    with pytest.raises(Problem) as info:
        capped.verify(ten_years)
    assert (info.value.status, "at most 24 h") == (401, info.value.detail[-len("at most 24 h.") : -1])
    assert capped.verify(raw_token(valid_claims())).sub == "C371002"
    # Development has no cap: the same token passes a verifier without one.
    assert VERIFIER.verify(ten_years).sub == "C371002"


def test_a_revoked_token_is_refused_and_others_pass() -> None:
    revoked = RevocationList(now=now)
    verifier = TokenVerifier(secret=SECRET, issuer=ISSUER, revocations=revoked)
    first, second = token(), token()
    with pytest.raises(Problem) as loading:
        verifier.verify(first)
    assert (loading.value.status, loading.value.headers) == (503, {"Retry-After": "1"})
    revoked.ready = True
    revoked.add(Revocation(jti=jti_of(first), expires_at=now() + timedelta(hours=1), revoked_at=now()))
    with pytest.raises(Problem) as refused:
        verifier.verify(first)
    assert (refused.value.status, refused.value.detail) == (401, "The token was revoked.")
    assert verifier.verify(second).jti == jti_of(second)


def test_the_list_forgets_revocations_of_expired_tokens() -> None:
    clock = [datetime(2026, 12, 1, tzinfo=UTC)]
    revoked = RevocationList(now=lambda: clock[0])
    revoked.add(Revocation(jti="a", expires_at=clock[0] + timedelta(hours=1), revoked_at=clock[0]))
    clock[0] += timedelta(hours=2)
    revoked.add(Revocation(jti="b", expires_at=clock[0] + timedelta(hours=1), revoked_at=clock[0]))
    assert (revoked.revoked("a"), revoked.revoked("b"), len(revoked)) == (False, True, 1)


# require(...) on a route.


def make_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.tokens = VERIFIER

    @app.get("/supervised")
    async def supervised(principal: Annotated[Principal, Depends(require(Role.supervisor, Role.auditor))]) -> dict[str, str]:
        return {"sub": principal.sub, "role": principal.role.value}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://test") as client:
        yield client


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}], ids=["none", "basic", "empty-bearer"])
async def test_no_bearer_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/supervised", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == problems.MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in response.json()["detail"]


async def test_invalid_token_on_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/supervised", headers=bearer(token(role=Role.supervisor, now=now() - timedelta(days=1))))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "The token has expired."


async def test_wrong_role(client: httpx.AsyncClient) -> None:
    response = await client.get("/supervised", headers=bearer(token(role=Role.court)))
    assert response.status_code == 403
    assert response.headers["content-type"] == problems.MEDIA_TYPE
    body = response.json()
    assert body["title"] == "Forbidden"
    assert "'court'" in body["detail"]
    assert "supervisor, auditor" in body["detail"]


@pytest.mark.parametrize(("role", "sub"), [(Role.supervisor, "S-7"), (Role.auditor, "audit-office")])
async def test_right_role(client: httpx.AsyncClient, role: Role, sub: str) -> None:
    response = await client.get("/supervised", headers=bearer(token(role=role, sub=sub)))
    assert response.status_code == 200
    assert response.json() == {"sub": sub, "role": role.value}


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(secret=SECRET, issuer=ISSUER)
    expires = int(time.time()) + 1
    short = raw_token({**valid_claims(), "exp": expires})
    assert verifier.verify(short).sub == "C371002"
    deadline = time.monotonic() + 5
    while time.time() < expires:
        assert time.monotonic() < deadline, "the clock did not pass the token's expiry"
        time.sleep(0.05)
    with pytest.raises(Problem) as info:
        verifier.verify(short)
    assert (info.value.status, info.value.detail) == (401, "The token has expired.")


def test_a_token_changed_after_it_was_verified_is_checked_afresh() -> None:
    verifier = TokenVerifier(secret=SECRET, issuer=ISSUER)
    good = token()
    assert verifier.verify(good).sub == "C371002"
    header, payload, signature = good.split(".")
    forged_payload = raw_token({**jwt.decode(good, SECRET, algorithms=[ALGORITHM], issuer=ISSUER), "role": "supervisor"}).split(".")[1]
    with pytest.raises(Problem) as info:
        verifier.verify(f"{header}.{forged_payload}.{signature}")
    assert info.value.status == 401
    assert verifier.verify(good).role is Role.court


def test_the_verifier_remembers_a_bounded_number_of_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_KEPT", 3)
    verifier = TokenVerifier(secret=SECRET, issuer=ISSUER)
    for _ in range(10):
        verifier.verify(token())
        assert len(verifier._verified) <= 3
