"""What every page route asks first: who is signed in (from the session cookie), and for a POST, that it carries the session's CSRF token."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request

from services.console import csrf
from services.console.deps import DepsDep
from services.console.errors import CSRF_REFUSED, SignInFirst
from services.console.handlers import people
from services.console.sessions import COOKIE, Visitor

log = structlog.get_logger(__name__)


async def current(request: Request, deps: DepsDep) -> Visitor | None:
    """Returns the person the session cookie names, if the session lives; error pages show them too."""
    token = request.cookies.get(COOKIE)
    visitor = await people.visit(deps, token=token) if token else None
    request.state.visitor = visitor
    return visitor


async def signed_in(visitor: Annotated[Visitor | None, Depends(current)]) -> Visitor:
    """Returns the signed-in person, or sends the browser to sign in."""
    if visitor is None:
        raise SignInFirst()
    return visitor


async def acting(request: Request, visitor: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
    """Returns the signed-in person once the request carries their session's CSRF token; refuses it (403) otherwise, before anything is done."""
    if not csrf.same(await csrf.sent_token(request), visitor.csrf_token):
        log.warning("console.csrf_refused", path=request.url.path)
        raise CSRF_REFUSED
    return visitor


def client(request: Request) -> str | None:
    """Returns the caller's address, as the audit log records it."""
    return request.client.host if request.client else None


Current = Annotated[Visitor | None, Depends(current)]
SignedIn = Annotated[Visitor, Depends(signed_in)]
Acting = Annotated[Visitor, Depends(acting)]
