"""POST /v1/notices and /v1/documents on real PostgreSQL: validation as problem+json writing nothing, auth, idempotency, the documents a notice names."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import func, select

from services.intake.config import IntakeSettings
from services.intake.main import create_app
from services.intake.models import IntakeDocument, IntakeNotice
from shared.plumbing.auth import Role
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import Runtime
from tests.support import EXAMPLE_NOTICE, EXAMPLES, running, sample_ofd, sample_pdf, settings, token, upload_document, upload_examples

COURT = token(Role.court, "C371002")


@pytest.fixture
async def intake(kafka, topic_prefix, make_database, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    configured = settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix)
    # Its own document store, so that a test damaging a file damages nobody else's.
    configured.common.documents_dir = tmp_path / "documents"
    app = create_app(configured)
    async with running(app) as client:
        await upload_examples(client, "", headers=COURT)
        yield client, app.state.runtime


async def rows(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.sessions() as session:
        notices = await session.scalar(select(func.count()).select_from(IntakeNotice))
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return notices, messages


def example(**recipient_changes: object) -> dict:
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body["recipients"][0].update(recipient_changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"id_number": "371002198503124211"}, "recipients[0].id_number", "check digit"),
        ({"id_number": "37100219850312421"}, "recipients[0].id_number", "18 characters"),
        ({"phones": ["13800138000", "call me maybe"]}, "recipients[0].phones[1]", "phone"),
        ({"emails": ["zhangsan.example.com"]}, "recipients[0].emails[0]", "email"),
        ({"id_type": "uscc", "id_number": "91371002MA3C5Y8K04"}, "recipients[0].id_number", "check"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(intake, changes, field, words) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=example(**changes), headers=COURT)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/v1/notices"
    failing = {e["field"]: e["message"] for e in problem["errors"]}
    assert list(failing) == [field]
    assert words in failing[field].lower()
    assert await rows(runtime) == (0, 0)


async def test_the_design_example_is_accepted_once_and_resubmission_returns_it(intake) -> None:
    client, runtime = intake
    first = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    again = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    assert first.status_code == 201
    assert first.headers["location"] == f"/v1/notices/{first.json()['id']}"
    assert first.json()["recipients"][0]["phones"] == [{"e164": "+8613800138000", "line_type": "mobile"}]
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await rows(runtime) == (1, 1)


async def test_a_conflicting_resubmission_is_rejected(intake) -> None:
    client, runtime = intake
    await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    changed = {**EXAMPLE_NOTICE, "cause": "买卖合同纠纷"}
    response = await client.post("/v1/notices", json=changed, headers=COURT)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert await rows(runtime) == (1, 1)


async def test_no_token_is_401(intake) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=EXAMPLE_NOTICE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    forged = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert await rows(runtime) == (0, 0)


@pytest.mark.parametrize(
    ("headers", "status"),
    [(token(Role.agent, "agent-7"), 403), (token(Role.lawyer, "firm-1"), 403), (token(Role.court, "C110105"), 403)],
)
async def test_the_wrong_role_or_another_court_may_not_submit(intake, headers, status) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await rows(runtime) == (0, 0)


async def test_another_court_cannot_see_a_notice(intake) -> None:
    client, _ = intake
    notice_id = (await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)).json()["id"]
    assert (await client.get(f"/v1/notices/{notice_id}", headers=COURT)).status_code == 200
    other = await client.get(f"/v1/notices/{notice_id}", headers=token(Role.court, "C110105"))
    assert other.status_code == 404
    assert (await client.get(f"/v1/notices/{notice_id}", headers=token(Role.agent, "agent-7"))).status_code == 403


SUPERVISOR = token(Role.supervisor, "S-1")
SERVICE = token(Role.service, "importer")


async def test_the_court_name_comes_from_the_registry(intake) -> None:
    client, runtime = intake
    unnamed = {k: v for k, v in EXAMPLE_NOTICE.items() if k != "court_name"}
    created = await client.post("/v1/notices", json=unnamed, headers=COURT)
    assert created.status_code == 201, created.text
    async with runtime.db.sessions() as session:
        stored = await session.get(IntakeNotice, created.json()["id"])
    assert stored.court_name == "威海市环翠区人民法院"
    # Naming the court as registered is the same notice; naming it otherwise is refused.
    assert (await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)).status_code == 200
    renamed = await client.post("/v1/notices", json={**EXAMPLE_NOTICE, "court_reference": "R-2", "court_name": "最高人民法院"}, headers=COURT)
    assert (renamed.status_code, [e["field"] for e in renamed.json()["errors"]]) == (422, ["court_name"])
    assert await rows(runtime) == (1, 1)


@pytest.mark.parametrize(
    ("headers", "changes", "status", "field"),
    [
        (COURT, {"case_number": "（2026）京0105民初1号"}, 403, "case_number"),  # another court's case
        (COURT, {"case_number": "（2026）鲁10民终1号", "stage": "appeal"}, 403, "case_number"),  # the intermediate court's
        (SERVICE, {"case_number": "（2026）京0105民初1号"}, 422, "case_number"),
        (SERVICE, {"court_id": "C999999"}, 422, "court_id"),  # no such court
        (token(Role.court, "C999999"), {"court_id": "C999999"}, 403, None),  # a token for a court nobody registered
    ],
)
async def test_a_notice_belongs_to_a_registered_court_and_one_of_its_cases(intake, headers, changes, status, field) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json={**EXAMPLE_NOTICE, **changes}, headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json"), response.text
    assert [e["field"] for e in response.json().get("errors", [])] == ([field] if field else [])
    assert await rows(runtime) == (0, 0)


async def test_supervisors_keep_the_registry(intake) -> None:
    client, runtime = intake
    listed = (await client.get("/v1/courts", headers=COURT)).json()
    assert {(c["id"], c["case_code"]) for c in listed} >= {("C371002", "鲁1002"), ("C110105", "京0105")}
    rongcheng_ii = {"name": "荣成市第二人民法院", "case_code": "鲁1083", "active": True}
    assert (await client.put("/v1/courts/C371083", json=rongcheng_ii, headers=COURT)).status_code == 403
    created = await client.put("/v1/courts/C371083", json=rongcheng_ii, headers=SUPERVISOR)
    assert (created.status_code, created.json()["case_code"]) == (201, "鲁1083")
    taken = await client.put("/v1/courts/C371084", json={**rongcheng_ii, "case_code": "鲁1002"}, headers=SUPERVISOR)
    assert (taken.status_code, taken.json()["errors"][0]["field"]) == (409, "case_code")
    bad = await client.put("/v1/courts/C371084", json={**rongcheng_ii, "case_code": "Lu1002"}, headers=SUPERVISOR)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "case_code")
    assert (await client.get("/v1/courts/C371084", headers=COURT)).status_code == 404

    # A court made inactive submits nothing more.
    inactive = await client.put("/v1/courts/C371002", json={"name": "威海市环翠区人民法院", "case_code": "鲁1002", "active": False}, headers=SUPERVISOR)
    assert (inactive.status_code, inactive.json()["active"]) == (200, False)
    refused = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    assert refused.status_code == 403 and "no longer active" in refused.json()["detail"]
    assert await rows(runtime) == (0, 0)


async def test_a_firms_lawyer_reads_only_the_parties_it_represents(intake) -> None:
    client, _ = intake
    firm = "31370000MD0123456A"
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body["recipients"][0]["lawyer"] = {"name": "王律师", "firm": "山东某某律师事务所", "firm_uscc": firm}
    body["recipients"].append({**copy.deepcopy(EXAMPLE_NOTICE["recipients"][0]), "name": "赵六", "role": "plaintiff", "id_number": "371002199001014219"})
    notice = (await client.post("/v1/notices", json=body, headers=COURT)).json()
    shown = await client.get(f"/v1/notices/{notice['id']}", headers=token(Role.lawyer, firm))
    assert shown.status_code == 200
    assert [r["name"] for r in shown.json()["recipients"]] == ["张三"]
    assert "371002199001014219" not in shown.text  # nothing of the other side
    assert (await client.get(f"/v1/notices/{notice['id']}", headers=token(Role.lawyer, "31370000MD0543216L"))).status_code == 404
    wrong = copy.deepcopy(body)
    wrong.update(court_reference="R-3")
    wrong["recipients"][0]["lawyer"]["firm_uscc"] = "31370000MD0123456B"
    refused = await client.post("/v1/notices", json=wrong, headers=COURT)
    assert (refused.status_code, [e["field"] for e in refused.json()["errors"]]) == (422, ["recipients[0].lawyer.firm_uscc"])


async def test_a_court_uploads_a_pdf_or_an_ofd_once_and_reads_it_back(intake) -> None:
    client, runtime = intake
    data = sample_pdf(pages=2, text="传票")
    created = await client.post("/v1/documents", files={"file": ("传票.pdf", data, "application/pdf")}, headers=COURT)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {"sha256": hashlib.sha256(data).hexdigest(), "content_type": "application/pdf", "size": len(data), "pages": 2, "filename": "传票.pdf"}
    assert created.headers["location"] == f"/v1/documents/{body['sha256']}"
    again = await client.post("/v1/documents", files={"file": ("again.pdf", data, "application/pdf")}, headers=COURT)
    assert (again.status_code, again.json()["filename"]) == (200, "传票.pdf")
    ofd = await client.post("/v1/documents", files={"file": ("传票.ofd", sample_ofd(3), "application/octet-stream")}, headers=COURT)
    assert (ofd.status_code, ofd.json()["content_type"], ofd.json()["pages"]) == (201, "application/ofd", 3)

    read = await client.get(f"/v1/documents/{body['sha256']}", headers=COURT)
    assert (read.status_code, read.content, read.headers["content-type"]) == (200, data, "application/pdf")
    assert read.headers["content-disposition"].startswith("attachment;") and "filename*=UTF-8''%E4%BC%A0%E7%A5%A8.pdf" in read.headers["content-disposition"]
    assert read.headers["content-security-policy"] == "default-src 'none'; sandbox"
    inline = await client.get(f"/v1/documents/{body['sha256']}?disposition=inline", headers=COURT)
    assert inline.headers["content-disposition"].startswith("inline;")
    # Another court's document answers as a missing one; an agent or a lawyer is never admitted; an overseer's read is audited.
    assert (await client.get(f"/v1/documents/{body['sha256']}", headers=token(Role.court, "C110105"))).status_code == 404
    assert (await client.get(f"/v1/documents/{body['sha256']}", headers=token(Role.agent, "agent-7"))).status_code == 403
    assert (await client.post("/v1/documents", files={"file": ("x.pdf", data)}, headers=token(Role.lawyer, "firm-1"))).status_code == 403
    assert (await client.get(f"/v1/documents/{body['sha256']}", headers=SUPERVISOR)).content == data
    log = (await client.get("/v1/audit-log", headers=SUPERVISOR)).json()
    assert any(e["action"] == "document.read" and e["target"] == body["sha256"] for e in log)


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"<!doctype html><html><body>\xe8\xb5\xb7\xe8\xaf\x89\xe7\x8a\xb6</body></html>", 415, "only pdf and ofd"),
        (sample_pdf()[:5000], 422, "cut short"),
        (sample_ofd(1, with_ofd_xml=False), 415, "ofd.xml"),
    ],
    ids=["html-named-pdf", "truncated-pdf", "zip-without-ofd-xml"],
)
async def test_a_file_that_is_not_a_readable_pdf_or_ofd_is_refused_and_nothing_kept(intake, data, status, words) -> None:
    client, runtime = intake
    response = await client.post("/v1/documents", files={"file": ("起诉状.pdf", data, "application/pdf")}, headers=COURT)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json"), response.text
    assert response.json()["errors"][0]["field"] == "file" and words in response.json()["errors"][0]["message"].lower()
    assert not (runtime.deps.documents.root / hashlib.sha256(data).hexdigest()[:2] / hashlib.sha256(data).hexdigest()).exists()
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IntakeDocument)) == 3  # the examples only


async def test_a_file_over_the_limit_is_refused(kafka, topic_prefix, make_database) -> None:
    app = create_app(settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix, document_max_bytes=10_000))
    async with running(app) as client:
        response = await client.post("/v1/documents", files={"file": ("big.pdf", sample_pdf())}, headers=COURT)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (413, "file")


async def test_a_service_uploads_for_a_court_it_names(intake) -> None:
    client, _ = intake
    nameless = await client.post("/v1/documents", files={"file": ("a.pdf", sample_pdf())}, headers=SERVICE)
    assert (nameless.status_code, nameless.json()["errors"][0]["field"]) == (422, "court_id")
    unknown = await client.post("/v1/documents", files={"file": ("a.pdf", sample_pdf())}, data={"court_id": "C999999"}, headers=SERVICE)
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "court_id")
    assert (await upload_document(client, "", headers=SERVICE, court_id="C110105"))["pages"] == 1
    forged = await client.post("/v1/documents", files={"file": ("a.pdf", sample_pdf())}, data={"court_id": "C110105"}, headers=COURT)
    assert forged.status_code == 403


async def test_a_notice_names_documents_its_court_uploaded_and_carries_what_the_store_knows(intake) -> None:
    client, runtime = intake
    other = await upload_document(client, "", headers=token(Role.court, "C110105"), data=sample_pdf(text="另一法院"))
    never = "0" * 64
    documents = copy.deepcopy(EXAMPLE_NOTICE["documents"])
    documents[0]["sha256"], documents[1]["sha256"], documents[2]["pages"] = never, other["sha256"], 7
    refused = await client.post("/v1/notices", json={**EXAMPLE_NOTICE, "documents": documents}, headers=COURT)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["documents[0].sha256", "documents[1].sha256", "documents[2].pages"]
    assert await rows(runtime) == (0, 0)

    without_pages = {**EXAMPLE_NOTICE, "documents": [{k: v for k, v in d.items() if k != "pages"} for d in EXAMPLE_NOTICE["documents"]]}
    created = await client.post("/v1/notices", json=without_pages, headers=COURT)
    assert created.status_code == 201, created.text
    first = created.json()["documents"][0]
    complaint = (EXAMPLES / "complaint_copy.pdf").read_bytes()
    assert first == {
        "title": "起诉状副本",
        "kind": "complaint_copy",
        "pages": 1,
        "sha256": hashlib.sha256(complaint).hexdigest(),
        "size": len(complaint),
        "content_type": "application/pdf",
    }
    async with runtime.db.sessions() as session:
        staged = (await session.exec(select(OutboxMessage))).one()
    assert f'"size":{len(complaint)}' in staged.payload.replace(" ", "")


async def test_a_missing_or_changed_file_is_an_error_never_an_empty_answer(intake) -> None:
    client, runtime = intake
    sha256 = EXAMPLE_NOTICE["documents"][0]["sha256"]
    path = runtime.deps.documents.path(sha256)
    kept = path.read_bytes()
    try:
        path.chmod(0o644)
        path.write_bytes(kept[:-1] + b"X")
        corrupt = await client.get(f"/v1/documents/{sha256}", headers=COURT)
        assert (corrupt.status_code, corrupt.headers["content-type"]) == (500, "application/problem+json")
        path.unlink()
        missing = await client.get(f"/v1/documents/{sha256}", headers=COURT)
        assert (missing.status_code, missing.headers["content-type"]) == (503, "application/problem+json")
    finally:
        path.write_bytes(kept)
        path.chmod(0o444)
