"""Bodies: the quoted history of a reply cut, HTML sanitised (no remote images), `cid:`
images pointed at stored attachments, HTML read as text."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import nh3

from atiende.cases import numbers

_QUOTE_HEADS = [
    re.compile(r"^\s*(El|On)\s.{3,200}(escribió|wrote)\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(
        r"^\s*-{2,}\s*(Mensaje original|Original Message|Forwarded message|Mensaje reenviado)\s*-{2,}",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
]
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(De|From)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Enviado(\s+el)?|Sent|Fecha|Date|Para|To)\s*:", re.IGNORECASE)


def trim_quoted(text: str) -> str:
    """Cut the quoted history of a reply (Gmail, Outlook, Apple Mail styles); the whole
    message stays in the .eml attachment."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        joined = " ".join(
            x.strip() for x in lines[i : i + 3]
        )  # Gmail wraps long "El ... escribió:"
        if any(p.match(line) for p in _QUOTE_HEADS[1:]) or (
            _QUOTE_HEADS[0].match(line)
            or (
                re.match(r"^\s*(El|On)\s", line)
                and _QUOTE_HEADS[0].match(joined)
                and not line.strip().endswith(".")
            )
        ):
            cut = i
            break
        if _OUTLOOK_HEADER.match(line) and any(
            _OUTLOOK_NEXT.match(x) for x in lines[i + 1 : i + 4]
        ):
            cut = i
            break
    kept = lines[:cut]
    while kept and (kept[-1].strip().startswith(">") or not kept[-1].strip()):
        kept.pop()  # a bottom-quoted tail
    result = "\n".join(kept).strip()
    return result or text.strip()


_ALLOWED_SCHEMES = {"http", "https", "mailto", "cid"}
# The one same-site image source we allow: a case attachment's download URL, which
# `link_inline_images` puts where the message said `cid:`. Any other relative URL is
# dropped, so a sender cannot make an agent's browser request our own pages.
_ATTACHMENT_URL = re.compile(rf"^/api/v1/cases/{numbers.PATTERN}/attachments/\d+/download$")


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        if value.lower().startswith("cid:") or _ATTACHMENT_URL.match(value):
            return value
        return None  # remote images are trackers until an agent asks for them
    return value


def sanitize_html(value: str) -> str:
    return nh3.clean(
        value,
        url_schemes=_ALLOWED_SCHEMES,
        strip_comments=True,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
    )


_IMG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_CID_SRC = re.compile(r'\ssrc="cid:([^"]*)"', re.IGNORECASE)
_ALT = re.compile(r'\salt="([^"]*)"', re.IGNORECASE)


def content_id(value: str) -> str:
    """A Content-ID header or a `cid:` URL (RFC 2392: percent-encoded) as one comparable key."""
    value = unquote(html.unescape(value or "")).strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return value.strip().strip("<>").strip()


def link_inline_images(body_html: str, urls: dict[str, str]) -> str:
    """Point `cid:` images at their stored attachments (`urls`: Content-ID → download URL).
    An image whose part we did not keep becomes a short text placeholder, never a request
    anywhere. Works on `sanitize_html` output and sanitises the result again."""
    if "cid:" not in body_html.lower():
        return body_html

    def one(match: re.Match) -> str:
        tag = match.group(0)
        src = _CID_SRC.search(tag)
        if src is None:
            return tag
        url = urls.get(content_id(src.group(1)))
        if url:
            return tag.replace(src.group(0), f' src="{html.escape(url)}"')
        alt = _ALT.search(tag)
        label = html.unescape(alt.group(1)).strip() if alt else ""
        text = f"[imagen no disponible: {label}]" if label else "[imagen no disponible]"
        return f"<span>{html.escape(text)}</span>"

    return sanitize_html(_IMG.sub(one, body_html))


_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\s*>")


def html_to_text(value: str) -> str:
    value = re.sub(r"(?is)<(style|script|head)[^>]*>.*?</\1\s*>", "", value)
    value = _BLOCK_END.sub("\n", value)
    text = html.unescape(nh3.clean(value, tags=set(), strip_comments=True))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
