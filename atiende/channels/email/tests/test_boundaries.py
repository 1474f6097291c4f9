"""Multipart boundaries matched literally (`inbound/boundaries.py`) match as the feed
parser's compiled patterns do, and the feed parser still writes the form they stand in for."""

from __future__ import annotations

import re
from email import feedparser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atiende.channels.email import inbound
from atiende.channels.email.inbound import boundaries
from atiende.channels.email.tests.conftest import parsed_or_why

FIXTURES = Path(__file__).parent / "fixtures"


def pattern(boundary: str) -> str:
    """What the feed parser compiles for a multipart with this boundary."""
    return (
        "(?P<sep>"
        + re.escape("--" + boundary)
        + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    )


def test_the_feed_parser_still_compiles_the_form_we_match(monkeypatch):
    made = []
    real = boundaries.compile
    monkeypatch.setattr(
        feedparser.re, "compile", lambda p, f=0: made.append(real(p, f)) or made[-1]
    )
    inbound.parse((FIXTURES / "attachments_encoded_names.eml").read_bytes(), channel="correo")
    assert made and all(isinstance(m, boundaries.Boundary) for m in made)


boundary_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
)
tails = st.lists(
    st.sampled_from(["--", " ", "\t", "\r\n", "\n", "\r", "x", "-", "--\n"]), max_size=4
)


@settings(max_examples=800, deadline=None)
@given(boundary_text, st.sampled_from(["", "-", "--", "x"]), tails)
def test_a_boundary_matches_lines_as_its_pattern_does(boundary, before, tail):
    compiled = re.compile(pattern(boundary))
    literal = boundaries.compile(pattern(boundary))
    assert isinstance(literal, boundaries.Boundary)
    for line in (before + "--" + boundary + "".join(tail), "--" + boundary[:-1] + "".join(tail)):
        want, got = compiled.match(line), literal.match(line)
        assert (want is None) == (got is None)
        if want is not None and got is not None:
            for group in ("end", "ws", "linesep"):
                assert got.group(group) == want.group(group)


def test_other_patterns_are_compiled_as_they_are():
    assert isinstance(boundaries.compile(r"(?P<sep>a|b)$"), re.Pattern)
    assert isinstance(boundaries.compile(pattern("x"), re.IGNORECASE), re.Pattern)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("**/*.eml")), ids=lambda p: p.name)
def test_whole_messages_parse_the_same_either_way(path, monkeypatch):
    literal = parsed_or_why(path.read_bytes())
    monkeypatch.setattr(feedparser, "re", re)
    assert parsed_or_why(path.read_bytes()) == literal
