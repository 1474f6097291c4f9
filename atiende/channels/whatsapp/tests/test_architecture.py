"""The adapter's shape: the flows change domain state only through services and read it only
through selectors; direct model access is confined to the modules (and models) listed here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
DOMAIN = ("atiende.cases", "atiende.customers", "atiende.escalations", "atiende.accounts")
OWN_MODELS = {"Conversation", "ProcessedMessage", "HeldMessage"}
# The guided flows, split along their seams; none touches a domain model.
FLOW_MODULES = (
    "flows.py",
    "conversations.py",
    "payloads.py",
    "actions.py",
    "states.py",
    "monitoring.py",
    "corporate.py",
    "services.py",
)

# What the flows may import from the domain apps besides services and selectors, and why.
FLOW_IMPORTS = {
    "atiende.cases.acknowledgements": "acknowledgement texts and the list of 24/7 channels (reads)",
    "atiende.sla.schedules.calendar": "a schedule's calendar (read, cached)",
    "atiende.cases.statuses": "the statuses and their groups (plain data)",
    "atiende.cases.numbers": "the case-number pattern (plain data)",
}

# Modules that still use domain model managers, and which models. Each is a read unless
# the comment says otherwise.
MANAGER_USE = {
    "selectors.py": {"Case", "Note", "Notification", "Attachment", "User"},
    "media_links.py": {"Attachment"},
    "conf.py": set(),
    "outbound.py": set(),
    # Jobs load their subject (a note, a channel) by primary key.
    "jobs.py": {"Note", "Channel"},
    **{name: set() for name in FLOW_MODULES},
    "views.py": set(),
    "inbound.py": set(),
    "graph.py": set(),
}


def _tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / name).read_text(encoding="utf-8"))


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Imported targets (module.name), leaving out `if TYPE_CHECKING:` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def _managers(tree: ast.Module) -> set[str]:
    return {
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "objects"
        and isinstance(node.value, ast.Name)
    }


@pytest.mark.parametrize("name", FLOW_MODULES)
def test_the_flows_import_only_services_and_selectors_of_the_domain(name):
    wrong = [
        target
        for target in _runtime_imports(_tree(name))
        if target.startswith((*DOMAIN, "atiende.sla"))
        and not target.endswith((".services", ".selectors"))
        and not target.rsplit(".", 1)[0].endswith((".services", ".selectors"))
        and target not in FLOW_IMPORTS
    ]
    assert wrong == []


@pytest.mark.parametrize("name", FLOW_MODULES)
def test_the_flows_use_no_domain_model_manager(name):
    assert _managers(_tree(name)) <= OWN_MODELS


@pytest.mark.parametrize("name", sorted(MANAGER_USE))
def test_domain_model_managers_are_used_only_where_listed(name):
    assert _managers(_tree(name)) - OWN_MODELS <= MANAGER_USE[name]


def test_every_module_of_the_adapter_is_listed():
    modules = {p.name for p in PACKAGE.glob("*.py")} - {
        "__init__.py",
        "apps.py",
        "admin.py",
        "models.py",
        "urls.py",
        "simulate.py",
        "options.py",
    }
    assert modules == set(MANAGER_USE)
