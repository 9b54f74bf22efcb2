"""The demo accounts `songda run` and `songda up` create in development: one per role, with passwords printed in the banner."""

from __future__ import annotations

from services.console.accounts import NewUser
from shared.plumbing.auth import Role

# An agent of services/delivery/policy.toml, a court of services/intake/courts.toml and a firm with a valid USCC,
# so that each account sees real data; the passwords are for a development machine and are printed on start.
DEMO_ACCOUNTS: tuple[NewUser, ...] = (
    NewUser(username="agent-huancui-1", role=Role.agent, scope="agent-huancui-1", display_name="环翠组一", password="demo-agent-huancui-1"),
    NewUser(username="supervisor", role=Role.supervisor, display_name="送达中心主管", password="demo-supervisor"),
    NewUser(username="court-huancui", role=Role.court, scope="C371002", display_name="威海市环翠区人民法院", password="demo-court-huancui"),
    NewUser(username="auditor", role=Role.auditor, display_name="审计员", password="demo-auditor"),
    NewUser(username="lawyer-demo", role=Role.lawyer, scope="31371000MD0543210E", display_name="山东示例律师事务所", password="demo-lawyer-firm"),
)
