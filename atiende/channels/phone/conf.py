"""A phone line's configuration, read at call time (tests change the environment)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os

from atiende.channels import kinds
from atiende.channels.phone import options
from atiende.customers.phones import DEFAULT_ZONE
from atiende.directory import selectors
from atiende.directory.models import Channel

# A line's address is its phone number; its `settings:` are checked by options.check.
RULES = kinds.KindRules(clean_address=kinds.phone_number, check_options=options.check)


def line(slug: str) -> Channel | None:
    """The active phone line with this slug (from the per-process snapshot: no query)."""
    channel = selectors.channel(slug)
    if channel is None or channel.kind != "phone" or not channel.active:
        return None
    return channel


def lines() -> list[Channel]:
    return [c for c in selectors.channels() if c.kind == "phone" and c.active]


def token(channel: Channel) -> str:
    """The line's PBX token, from the environment variable its `token_env` names; empty
    when the line names none or the variable is unset (the line then refuses every event)."""
    name = (channel.settings or {}).get("token_env")
    return os.environ.get(name, "").strip() if name else ""


def address_allowed(channel: Channel, address: str) -> bool:
    """Whether the PBX at `address` may post to the line (`allowed_addresses`; none: any)."""
    raw = (channel.settings or {}).get("allowed_addresses")
    if not raw:
        return True
    try:
        nets = options.networks(raw)
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a setting the loader would refuse, or no usable peer address
    return any(ip in net for net in nets)


def zone(channel: Channel) -> str:
    return str((channel.settings or {}).get("local_zone") or DEFAULT_ZONE)


def ring_timeout(channel: Channel) -> dt.timedelta:
    minutes = (channel.settings or {}).get("ring_timeout_minutes")
    return dt.timedelta(minutes=minutes or options.DEFAULT_RING_TIMEOUT_MINUTES)


def callback_join(channel: Channel) -> dt.timedelta:
    minutes = (channel.settings or {}).get("callback_join_minutes")
    return dt.timedelta(minutes=minutes or options.DEFAULT_CALLBACK_JOIN_MINUTES)
