"""What an upload's metadata must say for each kind: a signature and a signed 送达回证 are files, and neither is a photo of a scene."""

from __future__ import annotations

import json

import pytest

from services.evidence.items import parse_metadata
from shared.contracts.evidence import EvidenceKind
from shared.plumbing.problems import Problem


def metadata(kind: EvidenceKind, **fields: object) -> bytes:
    return json.dumps({"notice_id": "n-1", "kind": kind.value, "task_id": "t-1", **fields}).encode()


@pytest.mark.parametrize("kind", [EvidenceKind.signature, EvidenceKind.signed_receipt])
def test_a_signature_or_signed_receipt_is_taken_with_its_file_and_without_a_scene(kind: EvidenceKind) -> None:
    assert parse_metadata(metadata(kind), has_file=True).kind is kind
    with pytest.raises(Problem, match="file: a .* needs its file"):
        parse_metadata(metadata(kind, details={"note": "签于门口"}), has_file=False)
    with pytest.raises(Problem, match="scene:"):
        parse_metadata(metadata(kind, scene="visit"), has_file=True)


FIRM = "31370000MD0123456A"


@pytest.mark.parametrize(
    ("kind", "notice_id", "has_file", "refused"),
    [
        (EvidenceKind.firm_agreement, f"firm:{FIRM}", True, None),
        (EvidenceKind.firm_agreement, f"firm:{FIRM}", False, "file: a firm_agreement needs its file"),
        (EvidenceKind.firm_agreement, "n-1", True, "notice_id: a firm's agreement, and only it, is filed under firm:"),
        (EvidenceKind.firm_agreement, "firm:31370000MD0123456B", True, "notice_id: unified social credit code check character"),
        (EvidenceKind.call_record, f"firm:{FIRM}", True, "notice_id: a firm's agreement, and only it, is filed under firm:"),
    ],
)
def test_a_firm_s_agreement_is_filed_under_its_firm_and_nothing_else_is(kind: EvidenceKind, notice_id: str, has_file: bool, refused: str | None) -> None:
    text = json.dumps({"notice_id": notice_id, "kind": kind.value, "details": {"title": "电子送达协议"}}).encode()
    if refused is None:
        assert parse_metadata(text, has_file=has_file).notice_id == notice_id
    else:
        with pytest.raises(Problem) as caught:
            parse_metadata(text, has_file=has_file)
        assert caught.value.detail.startswith(refused)
