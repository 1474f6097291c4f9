"""The reads the WhatsApp flows and jobs make of the domain, in one place.

They are system reads (the sender is identified by the channel, not signed in), so the
user-scoped selectors of `cases` do not fit; each is a plain query here, named for what it
answers. TODO(#6): move the case reads to `cases.selectors` once its rewrite settles.
Writes never happen here: they go through `channels.services.receive_message`,
`cases.services` and `escalations.services`.
"""

from __future__ import annotations

from atiende.accounts.models import User
from atiende.cases import numbers, statuses
from atiende.cases.models import Attachment, Case, Note, Visibility
from atiende.channels.models import Notification
from atiende.customers.models import Contact
from atiende.directory.models import Channel
from atiende.escalations import selectors as escalation_selectors
from atiende.escalations.models import EscalationLevel


def has_open_case(*, contact_id: int, channel: Channel) -> bool:
    """Whether the contact has a case on this channel that is not resolved or finished."""
    return (
        Case.objects.filter(requester_id=contact_id, channel=channel)
        .exclude(status__in=statuses.DONE)
        .exists()
    )


def case_by_number(number: str) -> Case | None:
    return Case.objects.filter(number=numbers.normalise(number)).first()


def last_public_answer(case: Case) -> Note | None:
    """The latest public answer a person (not an automatic message) wrote the customer."""
    return (
        Note.objects.filter(
            case=case, visibility=Visibility.PUBLIC, direction="outbound", automatic=False
        )
        .order_by("-created_at", "-id")
        .first()
    )


def first_level() -> EscalationLevel | None:
    return escalation_selectors.level(1)


def active_members(level: EscalationLevel) -> list[User]:
    """The active members of the level's support group (paged for a critical incident)."""
    if level.group_id is None:
        return []
    return list(User.objects.filter(support_groups=level.group_id, is_active=True).order_by("id"))


def sent_note(external_id: str) -> Note | None:
    """The outbound note a WhatsApp message id (wamid) was sent for."""
    return (
        Note.objects.select_related("case")
        .filter(external_id=external_id, channel__kind="whatsapp")
        .first()
    )


def sent_notification(external_id: str) -> Notification | None:
    return Notification.objects.filter(external_id=external_id, kind="whatsapp").first()


def public_attachments(note: Note) -> list[Attachment]:
    return list(Attachment.objects.filter(note=note, public=True).order_by("id"))


def whatsapp_keys(contact: Contact) -> set[str]:
    """What a contact may be known by on WhatsApp: the number (also each of the contact's
    phones, as WhatsApp writes it: digits only) and the BSUID."""
    keys = {contact.whatsapp_id or "", contact.whatsapp_user_id or ""}
    for number in contact.phones.values_list("number", flat=True):
        keys.add("".join(ch for ch in number if ch.isdigit()))
    return keys - {""}
