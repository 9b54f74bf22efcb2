"""Takes each return receipt's scan from EMS into evidence, then tells delivery the receipt came back: with its scan or, in the end, without."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, EmsClient, ScanNotReady
from services.carrier_gateway.adapters.ems.mapper import CarrierRejected
from services.carrier_gateway.adapters.evidence import EvidenceClient, EvidenceRefused, EvidenceUnavailable
from services.carrier_gateway.models import CarrierItem, ScanState
from services.carrier_gateway.tracking import emit
from shared.contracts.events import ReceiptReturned
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)

# However many tries are configured, the gap between two stays bounded.
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class Scanner:
    """Works off receipts waiting for their scan, the longest-waiting first; `attempts` tries, `backoff` doubling between them (domain time)."""

    db: Database
    clock: Clock
    client: EmsClient
    evidence: EvidenceClient
    attempts: int = 8
    backoff: timedelta = timedelta(minutes=5)
    poll_s: float = 0.5
    batch: int = 10

    async def run(self) -> None:
        """Collects scans until cancelled."""
        while True:
            if await self.run_once() == 0:
                await asyncio.sleep(self.poll_s)

    async def run_once(self) -> int:
        """Tries every scan that is due now; returns how many items it looked at."""
        async with self.db.sessions() as session:
            due = (
                await session.exec(
                    select(CarrierItem)
                    .where(CarrierItem.scan == ScanState.pending, col(CarrierItem.scan_next_at) <= self.clock.now())
                    .order_by(col(CarrierItem.scan_next_at))
                    .limit(self.batch)
                )
            ).all()
        await asyncio.gather(*(self.collect(item) for item in due))
        return len(due)

    async def collect(self, item: CarrierItem) -> None:
        """Fetches one item's scan and uploads it, then emits the receipt; a failure schedules another try or, at the last, gives up."""
        returned = ReceiptReturned.model_validate(item.receipt)
        try:
            image, content_type = await self.client.receipt_scan(returned.waybill_no)
            # Keyed by the attempt: after a crash before the commit below, the upload is repeated and evidence answers the same id.
            evidence_id = await self.evidence.upload_receipt_scan(
                image, content_type=content_type, notice_id=item.notice_id, attempt_id=item.attempt_id, recipient_id=item.recipient_id, waybill_no=returned.waybill_no
            )
        except EvidenceRefused as exc:
            log.error("ems.receipt_scan_refused", attempt_id=item.attempt_id, status=exc.status, detail=exc.detail)
            await self._retry(item.attempt_id, error=str(exc), last=True)
            return
        except ScanNotReady as exc:
            log.info("ems.receipt_scan_not_ready", attempt_id=item.attempt_id, tries=item.scan_tries + 1)
            await self._retry(item.attempt_id, error=str(exc))
            return
        except (CarrierUnavailable, CarrierRejected, EvidenceUnavailable) as exc:
            log.warning("ems.receipt_scan_retry", attempt_id=item.attempt_id, tries=item.scan_tries + 1, error=str(exc))
            await self._retry(item.attempt_id, error=str(exc))
            return
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await _pending(session, item.attempt_id)
            if row is not None:
                _release(session, row, evidence_id=evidence_id, now=now)
                log.info("ems.receipt_scan_stored", attempt_id=row.attempt_id, evidence_id=evidence_id)

    async def _retry(self, attempt_id: str, *, error: str, last: bool = False) -> None:
        """Counts a failed try and schedules the next, or, at the last try, lets the receipt go out without a scan."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await _pending(session, attempt_id)
            if row is None:
                return
            row.scan_tries += 1
            row.scan_error = error[:500]
            if last or row.scan_tries >= self.attempts:
                # The receipt's date is the service date (CPL 91): it is not held back for want of a picture.
                log.warning("ems.receipt_scan_missing", attempt_id=attempt_id, tries=row.scan_tries, error=error)
                _release(session, row, evidence_id=None, now=now)
                return
            row.scan_next_at = now + min(self.backoff * 2 ** (row.scan_tries - 1), MAX_BACKOFF)
            row.updated_at = now
            session.add(row)


async def _pending(session: AsyncSession, attempt_id: str) -> CarrierItem | None:
    """Returns the item locked for this transaction while its scan is still pending; another worker may have settled it."""
    row = (await session.exec(select(CarrierItem).where(CarrierItem.attempt_id == attempt_id).with_for_update())).first()
    return row if row is not None and row.scan == ScanState.pending else None


def _release(session: AsyncSession, row: CarrierItem, *, evidence_id: str | None, now: datetime) -> None:
    """Emits the item's one ReceiptReturned, with the scan's evidence id when there is one, and settles the scan."""
    returned = ReceiptReturned.model_validate({**(row.receipt or {}), "scan_evidence_id": evidence_id})
    emit(session, returned, item=row, now=now)
    row.scan = ScanState.stored if evidence_id else ScanState.missing
    row.scan_evidence_id, row.scan_next_at, row.updated_at = evidence_id, None, now
    session.add(row)
