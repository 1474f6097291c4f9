"""The loader checks what is particular to a channel kind (its address, link and options)
through the rules its adapter registers in `channels.kinds`, and names no kind itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from atiende.channels import kinds
from atiende.configuration import loader
from atiende.directory.models import ChannelKind

LOADER = Path(loader.__file__).parent


def _parse_portal(settings: dict) -> list[str]:
    problems = loader.Problems("test.yaml")
    raw = {
        "slug": "portal",
        "kind": "portal",
        "name": "Portal",
        "address": "mesa",
        "link": "https://mesa.example.com/",
        "hours": [{"schedule": "24x7"}],
        "settings": settings,
    }
    loader.parse_channel(raw, "channels[0]", problems, {"24x7"})
    return problems.items


def test_the_adapters_register_the_rules_of_their_kinds():
    from atiende.channels.email import conf as email_conf
    from atiende.channels.whatsapp import conf as whatsapp_conf

    assert kinds.rules_for("email") is email_conf.RULES
    assert kinds.rules_for("whatsapp") is whatsapp_conf.RULES
    assert kinds.rules_for("phone").clean_address is kinds.phone_number
    assert kinds.rules_for("portal") is kinds.NO_RULES


def test_a_kind_without_rules_takes_any_address_and_options():
    assert _parse_portal({"anything": "goes"}) == []


def test_the_loader_reports_the_problems_the_kinds_rules_find(monkeypatch):
    def clean_address(text: str) -> str:
        raise ValueError(f"{text!r} is not a portal address")

    rules = kinds.KindRules(
        clean_address=clean_address,
        check_options=lambda options: [(key, "not an option here") for key in options],
        check_link=lambda link, address: [f"{link} is not ours"],
    )
    monkeypatch.setitem(kinds._RULES, "portal", rules)

    assert _parse_portal({"colour": "blue"}) == [
        "test.yaml: channels[0].address: 'mesa' is not a portal address",
        "test.yaml: channels[0].link: https://mesa.example.com/ is not ours",
        "test.yaml: channels[0].settings.colour: not an option here",
    ]


def test_a_kind_registered_twice_with_other_rules_is_refused(monkeypatch):
    monkeypatch.setitem(kinds._RULES, "portal", kinds.KindRules())
    kinds.register("portal", kinds.KindRules())  # the same rules again: fine
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register("portal", kinds.KindRules(clean_address=kinds.email_address))


def test_the_loader_names_no_channel_kind_and_imports_no_adapter():
    channel_kinds = set(ChannelKind.values)
    for path in sorted(LOADER.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                assert not (
                    parts[:2] == ["atiende", "channels"]
                    and parts[2:3] in ([k] for k in channel_kinds)
                ), f"{path.name} imports the adapter {node.module}"
        # Escalation contacts have kinds of their own (email, phone, whatsapp, url): the
        # contact parser is the one place that compares those words.
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "parse_contact":
                node.body = []
        compared = {
            value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Compare)
            for operand in (node.left, *node.comparators)
            for value in (
                operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            )
            if isinstance(value, ast.Constant) and value.value in channel_kinds
        }
        assert not compared, f"{path.name} branches on the channel kinds {sorted(compared)}"
