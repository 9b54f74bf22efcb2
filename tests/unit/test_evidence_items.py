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
