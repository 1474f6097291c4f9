"""The automatic answer a customer gets when their case is opened through a channel."""

from __future__ import annotations

from atiende.core import site
from atiende.core import text as core_text
from atiende.directory import hours
from atiende.sla import texts


def text(key: str) -> str:
    """An acknowledgement template: the site's `texts.<key>`, else the default."""
    return core_text.text(key, custom=site.get(f"texts.{key}"), defaults=texts.DEFAULT_TEXTS)


def acknowledgement(case) -> str:
    """In hours: the case number. Out of hours: also when it will be attended, and for an
    incident the channels that attend incidents 24/7."""
    channel = case.channel
    cal = hours.calendar_for(channel, case.type, case.priority)
    if cal is None or hours.open_for(channel, case.type, case.priority, case.created_at):
        return texts.render(text("ack"), number=case.number, channel=channel.name)
    body = texts.render(
        text("ack_out_of_hours"),
        number=case.number,
        channel=channel.name,
        hours="; ".join(cal.describe_es()),
        when=texts.when_es(cal.next_opening(case.created_at), cal.timezone),
    )
    if case.type == "incident":
        others = [
            hours.describe_channel(c)
            for c in hours.channels_24x7_for_incidents()
            if c.pk != channel.pk
        ]
        if others:
            body += " " + texts.render(text("ack_incident_24x7"), channels_24x7=", ".join(others))
    return body
