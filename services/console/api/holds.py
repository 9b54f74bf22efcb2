"""The held evidence: the list with each item's flags and photos, a supervisor's acceptance or order to visit again, and the items' content."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access, posted
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.handlers import holds
from services.console.handlers.holds import ReviewRefused
from services.console.pages import render
from services.console.supervision import Review, read_reason

router = APIRouter(include_in_schema=False)

RecipientId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EvidenceId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Decision = Annotated[Literal["accept", "revisit"], Path()]
# What the list says once a decision is recorded.
DONE: dict[str, str] = {
    "accept": "已认可证据：该送达按原报告的结果生效。",
    "revisit": "已安排重新上门：本次送达不予认可，已派出新的任务。",
}
# The photos a page may show inline (evidence sniffed them at upload); any other item is handed over as a file.
SHOWN_INLINE = frozenset({"image/jpeg", "image/png", "image/webp"})


@router.get("/holds", response_class=HTMLResponse)
async def held(request: Request, visitor: SignedIn, deps: DepsDep, decided: Annotated[Literal["accept", "revisit"] | None, Query()] = None) -> Response:
    """Lists the services held by an evidence check, the oldest first, each item's flags in Chinese and its photo; supervisors decide each."""
    access.admit(visitor, access.HOLDS)
    shown = await holds.held(deps, visitor=visitor)
    return render("holds.html", request=request, held=shown, decides=access.may(visitor, access.SUPERVISORS), errors=[], form=None, notice=DONE[decided] if decided else "")


@router.post("/holds/{recipient_id}/{decision}", response_class=HTMLResponse)
async def decide(recipient_id: RecipientId, decision: Decision, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Accepts the held evidence or orders a new visit, with a reason; the list again, saying so, or with what is wrong beside the form."""
    access.admit(visitor, access.SUPERVISORS)
    form = Review(recipient_id=recipient_id, decision=decision, reason=read_reason(await posted.submitted(request)))
    done = await holds.decide(deps, visitor=visitor, form=form)
    if isinstance(done, ReviewRefused):
        return render("holds.html", request=request, status=done.status, held=done.held, decides=True, errors=done.errors, form=done.form, notice="")
    return RedirectResponse(f"/holds?decided={decision}", status_code=303)


@router.get("/evidence/{evidence_id}")
async def content(evidence_id: EvidenceId, visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over an item of evidence as evidence stored it, with the person's token: a photo to show, anything else as a file to save."""
    access.admit(visitor, access.EVIDENCE)
    item = await holds.content(deps, visitor=visitor, evidence_id=evidence_id)
    media_type = item.content_type.split(";", 1)[0].strip().lower()
    disposition = "inline" if media_type in SHOWN_INLINE else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="evidence-{evidence_id}{mimetypes.guess_extension(media_type) or ""}"',
        # Personal data: kept in no cache; and never run as a page of ours, whatever it holds.
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    }
    return Response(item.data, media_type=media_type, headers=headers)
