"""The automatic answer a customer gets when their case is opened through a channel."""

from __future__ import annotations

from atiende.channels import selectors as channel_selectors
from atiende.channels.models import Channel
from atiende.configuration import settings as site
from atiende.core import text as core_text
from atiende.sla import texts
from atiende.sla.schedules import calendar


def text(key: str) -> str:
    """An acknowledgement template: the site's `texts.<key>`, else the default."""
    return core_text.text(key, custom=site.get(f"texts.{key}"), defaults=texts.DEFAULT_TEXTS)


def channels_24x7_for_incidents() -> list[Channel]:
    """Public channels whose schedule for critical incidents is always open."""
    out = []
    for ch in channel_selectors.channels():
        if not (ch.public and ch.active):
            continue
        slug = ch.schedule_slug_for("incident", "critical")
        if ch.attends_request("incident", "critical") and slug and calendar(slug).always_open:
            out.append(ch)
    return out


def describe_channel(ch: Channel) -> str:
    where = ch.display_address or ch.address or ch.link
    return f"{ch.name} ({where})" if where else ch.name


def acknowledgement(case) -> str:
    """In hours: the case number. Out of hours: also when it will be attended, and for an
    incident the channels that attend incidents 24/7."""
    channel = case.channel
    slug = channel.schedule_slug_for(case.type, case.priority)
    cal = calendar(slug) if slug else None
    if cal is None or cal.is_open(case.created_at):
        return texts.render(text("ack"), number=case.number, channel=channel.name)
    body = texts.render(
        text("ack_out_of_hours"),
        number=case.number,
        channel=channel.name,
        hours="; ".join(cal.describe_es()),
        when=texts.when_es(cal.next_opening(case.created_at), cal.timezone),
    )
    if case.type == "incident":
        others = [describe_channel(c) for c in channels_24x7_for_incidents() if c.pk != channel.pk]
        if others:
            body += " " + texts.render(text("ack_incident_24x7"), channels_24x7=", ".join(others))
    return body
