"""WhatsApp configuration: what a channel's address, link and `settings:` may say (the
rules the configuration loader asks through `channels.kinds`), and the values read from
the environment at call time (tests change them).

Secrets never live in the configuration file: a channel names the environment variable
that holds its phone number id (`settings.phone_number_id_env`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from atiende.channels import kinds
from atiende.channels.whatsapp import options
from atiende.customers.phones import to_e164
from atiende.directory import selectors
from atiende.directory.models import Channel

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v25.0"  # pinned Graph API version
# Where the Cloud API's short-lived media URLs point (besides the Graph API itself).
DEFAULT_MEDIA_HOSTS = "lookaside.fbsbx.com"
WA_LINK_RE = re.compile(r"^https://wa\.me/(\d+)/?$")


def check_options(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of a WhatsApp channel's settings as (setting name, message)."""
    return options.check(settings)


def check_link(link: str, address: str) -> list[str]:
    """A wa.me link must point to the channel's own number."""
    m = WA_LINK_RE.match(link)
    if m and address and m.group(1) != address.lstrip("+"):
        return [f"{link} points to another number than the address {address}"]
    return []


RULES = kinds.KindRules(
    clean_address=kinds.phone_number, check_options=check_options, check_link=check_link
)


def app_secret() -> str:
    return os.environ.get("ATIENDE_WHATSAPP_APP_SECRET", "")


def verify_token() -> str:
    return os.environ.get("ATIENDE_WHATSAPP_VERIFY_TOKEN", "")


def access_token() -> str:
    return os.environ.get("ATIENDE_WHATSAPP_ACCESS_TOKEN", "")


def graph_url() -> str:
    return os.environ.get("ATIENDE_WHATSAPP_GRAPH_URL", "").rstrip("/") or DEFAULT_GRAPH_URL


def media_hosts() -> list[str]:
    """Hosts the media download may fetch from besides the Graph API's own
    (`ATIENDE_WHATSAPP_MEDIA_HOSTS`, comma-separated; each `host` means https on port 443,
    or a full origin such as `https://cdn.example.com:8443`)."""
    raw = os.environ.get("ATIENDE_WHATSAPP_MEDIA_HOSTS")
    if raw is None:
        raw = DEFAULT_MEDIA_HOSTS
    return [h.strip() for h in raw.split(",") if h.strip()]


def public_url() -> str:
    """atiende's public base URL (`ATIENDE_PUBLIC_URL`, e.g. https://mesa.example.com), which
    Meta can reach; needed to send media by link. Empty when not configured."""
    return os.environ.get("ATIENDE_PUBLIC_URL", "").strip().rstrip("/")


def media_by_link(channel: Channel) -> bool:
    """Send a note's attachments as links Meta downloads (instead of uploading them): when
    the channel asks for it (`media_by_link: true`) and atiende has a public URL."""
    return bool((channel.settings or {}).get("media_by_link")) and bool(public_url())


def phone_number_id(channel: Channel) -> str:
    name = (channel.settings or {}).get("phone_number_id_env")
    return os.environ.get(name, "").strip() if name else ""


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def whatsapp_channels() -> list[Channel]:
    return [c for c in selectors.channels() if c.kind == "whatsapp" and c.active]


def channel_for(phone_number_id_: str, display_phone_number: str) -> Channel | None:
    """Route a notification: by our phone number id, else by the display number matching
    the channel's address (stored E.164)."""
    chans = whatsapp_channels()
    if phone_number_id_:
        for ch in chans:
            if phone_number_id(ch) == phone_number_id_:
                return ch
    wanted = _digits(display_phone_number)
    if wanted:
        for ch in chans:
            if phone_number_id(ch) and phone_number_id_:
                continue  # that channel has its own id, and it is not this one
            try:
                address = to_e164(ch.address)
            except Exception:
                address = ch.address
            if _digits(address) == wanted:
                return ch
    return None
