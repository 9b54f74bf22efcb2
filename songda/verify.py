"""Offline verification of a delivery report: its hash, its checkpoint's signature, every evidence proof, the blobs themselves, and the served documents' files."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.contracts import checkpoints, merkle
from shared.contracts.report import FORMAT, SEAL, report_hash


@dataclass
class Verdict:
    """What the checks found: one line per check passed, one per problem."""

    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tells whether every check passed."""
        return not self.problems


def _refs(report: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for recipient in report.get("recipients", []):
        for attempt in recipient.get("attempts", []):
            for ref in attempt.get("evidence", []):
                yield f"{recipient.get('name')} attempt {attempt.get('sequence')}", ref
        for ref in recipient.get("evidence", []):
            yield f"{recipient.get('name')} service", ref
        for opening in recipient.get("openings", []):
            yield f"{recipient.get('name')} opened {opening.get('title')}", opening.get("receipt") or {}


def _blob(directory: Path, sha256: str) -> Path | None:
    for candidate in (directory / sha256, directory / sha256[:2] / sha256[2:4] / sha256):
        if candidate.is_file():
            return candidate
    return None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_report(report: dict[str, Any], *, blobs: Path | None = None, key: str | None = None, documents: Sequence[Path] = ()) -> Verdict:
    """Checks a report document; `key` pins the log's public key (base64), otherwise the report's own is used and said so; each of `documents` must be a file the report lists."""
    verdict = Verdict()
    if report.get("format") != FORMAT:
        verdict.problems.append(f"format: expected {FORMAT}, found {report.get('format')!r}")
        return verdict
    seal = report.get(SEAL) or {}
    if report_hash(report) == seal.get("report_sha256"):
        verdict.passed.append(f"report hash {seal['report_sha256']}")
    else:
        verdict.problems.append("report hash: the report was changed after it was sealed")

    cp = report["checkpoint"]
    try:
        root = bytes.fromhex(cp["root"])
        public_key = base64.b64decode(key or cp["public_key"])
        signed = checkpoints.verify(
            public_key, base64.b64decode(cp["signature"]), origin=cp["origin"], size=cp["size"], root=root, issued_at=datetime.fromisoformat(cp["issued_at"])
        )
    except (ValueError, KeyError, TypeError):
        signed, root = False, b""
    whose = "the pinned key" if key else "the key the report carries (pass --key to pin the court's copy)"
    if signed and checkpoints.key_id(cp["origin"], public_key).hex() == cp["key_id"]:
        verdict.passed.append(f"checkpoint {cp['origin']} size {cp['size']} signed by {whose}")
    else:
        verdict.problems.append(f"checkpoint: the signature does not verify with {whose}")

    proved, checked = 0, 0
    for where, ref in _refs(report):
        problem = _check_ref(ref, size=cp["size"], root=root)
        if problem:
            verdict.problems.append(f"{where}, {ref.get('kind')} {ref.get('ref')}: {problem}")
            continue
        proved += 1
        if blobs is not None and json.loads(ref["proof"]["entry"]).get("type") == "evidence":
            found = _blob(blobs, ref["sha256"])
            if found is None:
                verdict.problems.append(f"{where}, {ref['kind']} {ref['ref']}: no blob {ref['sha256']} in {blobs}")
            elif _file_sha256(found) != ref["sha256"]:
                verdict.problems.append(f"{where}, {ref['kind']} {ref['ref']}: the blob's bytes do not hash to {ref['sha256']}")
            else:
                checked += 1
    verdict.passed.append(f"{proved} evidence entries included in the checkpoint (RFC 9162 proofs)")
    if blobs is not None:
        verdict.passed.append(f"{checked} blobs hash to their recorded sha256")
    _check_documents(report, documents, verdict)
    return verdict


def _check_documents(report: dict[str, Any], documents: Sequence[Path], verdict: Verdict) -> None:
    """Says of each file whether it is one the report lists as served (by its sha256), and as which document."""
    listed = {d.get("sha256"): d for d in report.get("documents", []) if d.get("sha256")}
    for path in documents:
        try:
            sha256 = _file_sha256(path)
        except OSError as error:
            verdict.problems.append(f"document {path}: cannot be read ({error.strerror or error})")
            continue
        document = listed.get(sha256)
        if document is None:
            verdict.problems.append(f"document {path}: NOT in the report (sha256 {sha256} is none of its {len(listed)} documents)")
        else:
            verdict.passed.append(f"document {path}: listed as {document.get('title')} ({document.get('pages')} pages, sha256 {sha256})")


def _check_ref(ref: dict[str, Any], *, size: int, root: bytes) -> str | None:
    proof = ref.get("proof") or {}
    try:
        entry = json.loads(proof["entry"])
        path = [bytes.fromhex(p) for p in proof["path"]]
        leaf = merkle.leaf_hash(proof["entry"].encode())
    except (KeyError, TypeError, ValueError):
        return "the proof is malformed"
    if entry.get("sha256") != ref.get("sha256"):
        return "the log entry records a different sha256"
    if ref.get("ref") not in (entry.get("evidence_id"), entry.get("event_id")):
        return "the log entry is about something else"
    if not merkle.verify_inclusion(leaf, proof.get("leaf_index", -1), size, path, root):
        return "the inclusion proof does not lead to the checkpoint's root"
    return None
