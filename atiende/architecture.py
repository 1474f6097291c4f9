"""Which app may import which: the one statement of the rule.

`atiende/tests/test_architecture.py` parses every module of the package (local imports
inside functions included) and fails on an import these rules do not allow;
`docs/architecture.md` shows `render()` of them, and the same test keeps it in step.

Domain apps are listed lowest first. Each may import itself and what its entry names: an
app (``"sla"``) or, where only part of an app is meant, modules of it
(``"sla.calendar"``). Interfaces may import any domain app; no domain module imports an
interface. The graph has no cycle (the test checks that too).
"""

from __future__ import annotations

DOMAIN: dict[str, tuple[str, ...]] = {
    # clock, audit trail, errors, transactions, snapshots, site settings (read), the web edge
    "core": (),
    # the transactional job queue: domain apps enqueue and register their handlers
    "worker": ("core",),
    # the pure business calendar, schedules and SLA targets, timers and sweeps
    "sla": ("core", "worker"),
    # the channel directory: Channel records, their hours, open now, 24/7 for incidents
    "directory": ("core", "sla.calendar", "sla.schedules"),
    # organizations, contacts and their addresses
    "customers": ("core",),
    # agents, support groups, roles, API tokens (a customer's user is a contact)
    "accounts": ("core", "worker", "customers"),
    # cases, notes, attachments, statuses
    "cases": ("core", "worker", "sla", "directory", "customers", "accounts"),
    # the console's search index over cases and notes (database triggers; reads ids only)
    "search": (),
    # the verified ladder
    "escalations": ("core", "worker", "sla", "customers", "accounts", "cases"),
    # the door every channel comes in by, notifications, the adapters (channels/<kind>/)
    "channels": ("core", "worker", "directory", "customers", "accounts", "cases", "escalations"),
    # agents' notifications (from the domain's events) and presence on a case
    "notifications": ("core", "worker", "accounts", "cases", "escalations"),
    # YAML <-> database for every configured thing, and the /canales page's reads
    "configuration": (
        "core",
        "sla",
        "directory",
        "customers",
        "accounts",
        "escalations",
        "channels",
    ),
    # operation: health, metrics (reads of every app's state), backups, the request id's
    # web edge and the JSON logs
    "ops": ("core", "worker", "sla", "directory", "cases", "escalations", "channels"),
    # the supervisors' reports and the roll-ups behind them
    "reports": (
        "core",
        "worker",
        "sla",
        "directory",
        "customers",
        "accounts",
        "cases",
        "escalations",
        "channels",
    ),
}

# Interfaces parse, authorise, call a domain app and render; they may import any app and
# the project's wiring (`atiende serve` runs the WSGI application).
INTERFACE_APPS = ("api", "portal", "console")
# Modules that are interfaces wherever they live (fnmatch patterns on the dotted name
# below `atiende.`).
INTERFACE_MODULES = (
    "*.management.commands.*",  # management commands
    "*.views",  # webhook views of the adapters
    "channels.*.api",  # an adapter's routes in the REST API (the phone's call log)
    "*.urls",
    "*.admin",  # the Django admin
    "accounts.signin.forms",  # the sign-in pages (their views match "*.views")
)
# The project's wiring, which names every app: settings, URL root, the admin's modules,
# WSGI, the console script.
PROJECT_MODULES = (
    "settings",
    "urls",
    "adminsite",
    "wsgi",
    "cli",
    "__main__",
    "conftest",
    "architecture",
)
# Not checked: tests use any app's factories (`security` holds only the hostile-input
# suite); migrations name apps by label, not by import.
EXEMPT = ("*.tests.*", "*.tests", "tests", "tests.*", "security", "*.migrations.*")


def render() -> str:
    """The rules as docs/architecture.md shows them."""
    width = max(map(len, DOMAIN))
    lines = [
        f"{app:<{width}} -> {', '.join(allowed) or '(no app)'}" for app, allowed in DOMAIN.items()
    ]
    lines.append(f"{'interfaces':<{width}} -> any domain app: {', '.join(INTERFACE_APPS)},")
    lines.append(" " * (width + 4) + ", ".join(INTERFACE_MODULES))
    return "\n".join(lines)
