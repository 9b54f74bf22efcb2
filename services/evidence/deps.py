"""What evidence's handlers are given: database and clock, the log's signer, the blob store and its upload limit, the webhook rules, the courts' push port with its tries, and the PDF renderings under way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from services.evidence.adapters.courts import CourtWebhooks
from services.evidence.renderings import Renderings
from services.evidence.signer import Signer
from services.evidence.targets import TargetPolicy
from shared.plumbing.backoff import Backoff
from shared.plumbing.blobs import BlobStore
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class EvidenceDeps(Deps):
    """Evidence's Deps: the ports and policy its handlers need besides database and clock."""

    signer: Signer
    blobs: BlobStore
    max_upload_bytes: int
    webhook_policy: TargetPolicy
    courts: CourtWebhooks
    # A report version is pushed at most this many times, waiting longer after each refusal.
    push_attempts: int
    push_backoff: Backoff
    # The versions being rendered as PDF in this process, each once.
    renderings: Renderings = field(default_factory=Renderings)


DepsDep = Annotated[EvidenceDeps, Depends(get_deps)]
