"""Which of the console's pages each role reaches; what a person may see and do with delivery's data the services decide."""

from __future__ import annotations

from services.console.errors import PageError
from services.console.sessions import Visitor
from shared.plumbing.auth import Role

# Today lists the caller's own queue: an agent's. A supervisor may open any task by its address.
TODAY = frozenset({Role.agent})
TASKS = frozenset({Role.agent, Role.supervisor})
# The board lists everyone's open tasks, which delivery shows supervisors only; reassigning is theirs too.
BOARD = frozenset({Role.supervisor})
# Auditors read the roster, the held services and their photos, and the notice list; only supervisors change or decide.
ROSTER = frozenset({Role.supervisor, Role.auditor})
HOLDS = frozenset({Role.supervisor, Role.auditor})
# A court lists and opens its own notices (the services show it no other); the overseers all.
NOTICES = frozenset({Role.court, Role.supervisor, Role.auditor})
# An item of evidence and its thumbnail: its notice's court, and the overseers (evidence decides which item is whose).
EVIDENCE = frozenset({Role.court, Role.supervisor, Role.auditor})
# Submitting a notice: a court for itself, a supervisor for a court they choose.
SUBMIT = frozenset({Role.court, Role.supervisor})
SUPERVISORS = frozenset({Role.supervisor})
# Notices from a workbook: a court uploads its own, a supervisor for a court it picks.
BATCHES = frozenset({Role.court, Role.supervisor})
# A delivery report: its court's, and every court's for the overseers (evidence decides which notice is whose).
REPORTS = frozenset({Role.court, Role.supervisor, Role.auditor})
# The KPIs: a court its own court's (evidence decides), supervisors and auditors any court's or all.
DASHBOARD = frozenset({Role.court, Role.supervisor, Role.auditor})
# The holiday calendar is the whole system's: the overseers read it, supervisors import a year.
CALENDAR = frozenset({Role.supervisor, Role.auditor})
# A firm's inbox: its lawyers (delivery shows each firm only what was served on it).
INBOX = frozenset({Role.lawyer})


def admit(visitor: Visitor, roles: frozenset[Role]) -> None:
    """Refuses (403 page) a person whose role the page or action is not for."""
    if visitor.role not in roles:
        raise PageError(403, "无权访问", "您的账号无权查看此页面或办理此事项。请返回首页查看您可以办理的事项。")


def may(visitor: Visitor, roles: frozenset[Role]) -> bool:
    """Tells whether the person's role is among those of a page or action (to offer its forms or links)."""
    return visitor.role in roles
