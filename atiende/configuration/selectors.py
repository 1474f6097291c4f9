"""Reads of the loaded configuration, shaped for the public "Canales de atención" page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import phonenumbers

from atiende.core import site
from atiende.core import text as core_text
from atiende.directory import hours
from atiende.directory.models import Channel, ChannelKind
from atiende.escalations.models import EscalationLevel
from atiende.sla import schedules, texts
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import Schedule


def text(key: str) -> str:
    """An editable text (`texts:` in the configuration file)."""
    return core_text.text(key, custom=site.get(f"texts.{key}"))


def calendar_for(schedule: Schedule) -> BusinessCalendar:
    return schedules.calendar_of(schedule)


@dataclass(frozen=True)
class Link:
    text: str
    href: str = ""  # empty: shown as plain text

    @property
    def parts(self) -> list[str]:
        """The text cut after '@', where a long e-mail address may wrap on a phone."""
        local, at, domain = self.text.partition("@")
        return [local + at, domain] if at and domain else [self.text]


@dataclass(frozen=True)
class HoursRule:
    label: str  # e.g. "Atención de incidentes 24/7"; may be empty
    lines: list[str]  # e.g. ["Lunes a Viernes de 7:00 am a 7:00 pm", "Sábado de 8:00 am a 1:00 pm"]


@dataclass(frozen=True)
class OpenState:
    """Whether a channel attends a kind of request right now, or when it next does."""

    label: str  # "Incidentes" / "Solicitudes" when the channel has several rules, else ""
    open_now: bool
    opens: str  # e.g. "lunes 30 de noviembre a las 7:00 a. m."; empty when open
    opens_en: str = ""  # the same in English: "Monday 30 November at 7:00 a.m."


@dataclass(frozen=True)
class ChannelEntry:
    channel: Channel
    addresses: list[Link]
    hours: list[HoursRule]
    status: list[OpenState] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    address_heading: str
    hours_heading: str
    channels: list[ChannelEntry] = field(default_factory=list)


@dataclass(frozen=True)
class LevelEntry:
    level: EscalationLevel
    contacts: list[Link]


def tel_href(number: str) -> str:
    """A tel: link; numbers that only work inside the country keep their national form."""
    try:
        parsed = phonenumbers.parse(number, "CO")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    if phonenumbers.can_be_internationally_dialled(parsed):
        return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "tel:" + "".join(ch for ch in national if ch.isdigit())


def whatsapp_href(number: str) -> str:
    href = tel_href(number)
    return "https://wa.me/" + href.removeprefix("tel:+") if href.startswith("tel:+") else ""


def channel_addresses(channel: Channel) -> list[Link]:
    """How to reach a channel, most useful first, each with a link when there is one."""
    shown = channel.display_address or channel.address
    if channel.kind == ChannelKind.PHONE:
        return [Link(shown, tel_href(channel.address))] if shown else []
    if channel.kind == ChannelKind.EMAIL:
        return [Link(shown, f"mailto:{channel.address}")] if shown else []
    out = []
    if channel.link:
        out.append(Link(channel.link, channel.link))
    if shown:
        out.append(Link(shown))
    return out


def hours_rules(channel: Channel, descriptions: dict[str, list[str]]) -> list[HoursRule]:
    """Each hours rule of the channel with its schedule described in Spanish."""
    rules = []
    for rule in channel.hours:
        lines = descriptions.get(rule.get("schedule", ""), [])
        label = rule.get("label", "")
        # "Atención de incidentes 24/7" already says "24/7": don't repeat it below.
        lines = [line for line in lines if line not in label]
        rules.append(HoursRule(label=label, lines=lines))
    return rules


def open_states(channel: Channel, now: dt.datetime | None = None) -> list[OpenState]:
    """Per hours rule: open now, or when it opens (in the schedule's timezone)."""
    return [
        OpenState(
            state.label,
            state.open_now,
            "" if state.open_now else texts.when_es(state.next_opening, state.calendar.timezone),
            "" if state.open_now else texts.when_en(state.next_opening, state.calendar.timezone),
        )
        for state in hours.rule_states(channel, now)
    ]


def schedule_descriptions() -> dict[str, list[str]]:
    """Schedule slug -> its hours in Spanish, e.g. ["Lunes a Viernes de 7:00 am a 7:00 pm", …]."""
    return {s.slug: calendar_for(s).describe_es() for s in Schedule.objects.all()}


def public_sections() -> list[Section]:
    """Active public channels grouped by kind, in the order of the first channel of each kind."""
    descriptions = schedule_descriptions()
    sections: dict[str, Section] = {}
    for channel in Channel.objects.filter(public=True, active=True).order_by("position", "slug"):
        if channel.kind not in sections:
            sections[channel.kind] = Section(
                kind=channel.kind,
                title=text(f"canales.section.{channel.kind}") or channel.get_kind_display(),
                address_heading=text(f"canales.address.{channel.kind}"),
                hours_heading=text(f"canales.hours.{channel.kind}"),
            )
        sections[channel.kind].channels.append(
            ChannelEntry(
                channel,
                channel_addresses(channel),
                hours_rules(channel, descriptions),
                open_states(channel),
            )
        )
    return list(sections.values())


def contact_link(contact: dict[str, str]) -> Link:
    kind, value, label = contact.get("kind", ""), contact.get("value", ""), contact.get("label", "")
    if kind == "url":
        return Link(label or value, value)
    shown = f"{label}: {value}" if label else value
    if kind == "email":
        return Link(shown, f"mailto:{value}")
    if kind == "phone":
        return Link(shown, tel_href(value))
    if kind == "whatsapp":
        return Link(shown, whatsapp_href(value))
    return Link(shown)


def escalation_matrix() -> list[LevelEntry]:
    return [
        LevelEntry(level, [contact_link(c) for c in level.contacts])
        for level in EscalationLevel.objects.select_related("group").order_by("number")
    ]


def classification_label() -> str:
    value = site.get("classification")
    return str(site.CLASSIFICATION_LABELS.get(value, value))
