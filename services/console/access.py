"""Which of the console's pages each role reaches; what a person may see and do with delivery's data the services decide."""

from __future__ import annotations

from services.console.errors import PageError
from services.console.sessions import Visitor
from shared.plumbing.auth import Role

# Today lists the caller's own queue: an agent's. A supervisor may open any task by its address.
TODAY = frozenset({Role.agent})
TASKS = frozenset({Role.agent, Role.supervisor})


def admit(visitor: Visitor, roles: frozenset[Role]) -> None:
    """Refuses (403 page) a person whose role the page is not for."""
    if visitor.role not in roles:
        raise PageError(403, "无权访问", "此页面供送达员和送达主管使用。请返回首页查看您可以办理的事项。")
