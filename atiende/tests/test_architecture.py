"""Imports run one way: every module of the package (local imports inside functions and
`if TYPE_CHECKING:` blocks included) imports only what `atiende/architecture.py` allows,
the allowed arrows have no cycle, and docs/architecture.md shows them."""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

import pytest

from atiende import architecture as rules

PACKAGE = Path(rules.__file__).resolve().parent
DOCS = PACKAGE.parent / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    """Dotted name below `atiende.` -> file, e.g. "cases.services"."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(name, pattern) for pattern in patterns)


def _is_interface(name: str) -> bool:
    return name.split(".")[0] in rules.INTERFACE_APPS or _matches(name, rules.INTERFACE_MODULES)


def _imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module below `atiende.`) for every import of the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["atiende", *package.split(".")] if package else ["atiende"]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from atiende.sla import schedules` imports the module atiende.sla.schedules.
            targets = [
                f"{module}.{alias.name}"
                if f"{module}.{alias.name}".removeprefix("atiende.") in MODULES
                else module
                for alias in node.names
            ]
        else:
            continue
        out += [
            (node.lineno, target.removeprefix("atiende."))
            for target in targets
            if target.startswith("atiende.")
        ]
    return out


def _allowed(source: str, target: str) -> bool:
    app, to_app = source.split(".")[0], target.split(".")[0]
    if app == to_app:
        return True
    if to_app not in rules.DOMAIN:
        return False  # an interface, the project's wiring, or an unknown app
    return any(target == entry or target.startswith(entry + ".") for entry in rules.DOMAIN[app])


def _broken(name: str) -> list[str]:
    path = MODULES[name]
    if _matches(name, rules.EXEMPT) or name in rules.PROJECT_MODULES:
        return []
    if _is_interface(name):
        return []
    wrong = []
    for line, target in _imports(name, path):
        if _is_interface(target):
            wrong.append(f"{name}:{line} imports the interface {target}")
        elif not _allowed(name, target):
            wrong.append(f"{name}:{line} imports {target}")
    return wrong


CHECKED = sorted(
    name
    for name in MODULES
    if not _matches(name, rules.EXEMPT) and name not in rules.PROJECT_MODULES
)


def test_every_module_belongs_to_a_known_app_or_is_an_interface():
    unknown = [
        name
        for name in CHECKED
        if name.split(".")[0] not in rules.DOMAIN and not _is_interface(name)
    ]
    assert unknown == []


@pytest.mark.parametrize("name", CHECKED)
def test_the_module_imports_only_what_the_rules_allow(name):
    assert _broken(name) == []


def test_the_allowed_arrows_have_no_cycle():
    order = list(rules.DOMAIN)
    for app, allowed in rules.DOMAIN.items():
        for entry in allowed:
            assert entry.split(".")[0] in rules.DOMAIN, f"{app} names an unknown app {entry}"
            # Listed lowest first: an app only ever points down the list.
            assert order.index(entry.split(".")[0]) < order.index(app), f"{app} -> {entry}"


def test_the_allowed_arrows_are_all_used():
    """The rules show the real arrows, not a wish list."""
    used = {
        (name.split(".")[0], entry)
        for name in CHECKED
        if not _is_interface(name)
        for _, target in _imports(name, MODULES[name])
        for entry in rules.DOMAIN.get(name.split(".")[0], ())
        if target == entry or target.startswith(entry + ".")
    }
    unused = [
        (app, e) for app, allowed in rules.DOMAIN.items() for e in allowed if (app, e) not in used
    ]
    assert unused == []


def test_docs_architecture_shows_the_rules():
    assert rules.render() in DOCS.read_text(encoding="utf-8")


def test_the_checker_sees_local_imports_and_refuses_an_upward_arrow(tmp_path, monkeypatch):
    module = tmp_path / "services.py"
    module.write_text(
        "def f():\n    from atiende.channels import services\n    from atiende.api import main\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(MODULES, "sla.probe", module)
    assert _broken("sla.probe") == [
        "sla.probe:2 imports channels.services",
        "sla.probe:3 imports the interface api.main",
    ]
