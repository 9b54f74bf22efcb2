"""Evidence's Deps for handler tests: a SQLite file, a clock the test moves (tests.support.Clock), a fake court port, and webhooks allowed to 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from services.evidence.adapters.courts import FakeCourtWebhooks
from services.evidence.deps import EvidenceDeps
from services.evidence.models import TABLES
from services.evidence.signer import Signer
from services.evidence.targets import TargetPolicy, networks
from shared.contracts.checkpoints import DEV_SIGNING_SEED
from shared.plumbing.backoff import Backoff
from shared.plumbing.blobs import BlobStore
from shared.plumbing.db import Database, create_tables
from shared.plumbing.runtime import PLUMBING_TABLES
from tests.support import Clock

LOCAL = TargetPolicy(require_https=False, allowed=networks(["127.0.0.1/32"]))


@asynccontextmanager
async def evidence_deps(tmp_path: Path, *, now: datetime) -> AsyncIterator[EvidenceDeps]:
    """Yields evidence's Deps on a SQLite file in `tmp_path`, its clock standing at `now`, uploads up to 1 KiB, two tries of a push a minute apart."""
    db = Database(f"sqlite:///{tmp_path / 'evidence.db'}")
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    try:
        yield EvidenceDeps(
            db=db,
            clock=Clock(now),
            signer=Signer(origin="songda.evidence/log", seed=DEV_SIGNING_SEED),
            blobs=BlobStore(tmp_path / "blobs"),
            max_upload_bytes=1024,
            webhook_policy=LOCAL,
            courts=FakeCourtWebhooks(),
            push_attempts=2,
            push_backoff=Backoff(initial=60, maximum=60),
        )
    finally:
        await db.dispose()
