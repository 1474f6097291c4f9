"""The monitoring line (attends critical incidents only, 24/7).

Every message is stored at once as a critical incident's note (the first one opens the
incident). A new incident is paged to the level-1 group and the monitoring on-call, then
the line interviews the customer (`Step.INTERVIEW`): the organization when the number is
unknown, the affected service, what is happening; each answer is a note on that case, and
the last one is thanked with the escalation button. Transitions: `states.MONITORING`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from atiende.channels.whatsapp import actions, states
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.models import Conversation, Step
from atiende.channels.whatsapp.options import split_list
from atiende.directory.models import Channel
from atiende.worker import queue

if TYPE_CHECKING:
    from atiende.cases.models import Case
    from atiende.channels.messages import Received

log = logging.getLogger(__name__)


def handle(channel: Channel, conv: Conversation, m: WaMessage) -> None:
    received = None
    if not (m.reply_id or "").startswith("escalar:"):
        received = actions.store(
            channel, m, join_open_case=True, type="incident", priority="critical"
        )
    state = conv.state or {}
    questions = list(state.get("steps") or [])
    event = states.monitoring_event(
        conv.step,
        reply_id=m.reply_id,
        new_case=bool(received and received.new_case),
        reachable=bool(conv.wa_id),
        interview_case=state.get("case"),
        case=received.case.number if received else None,
        duplicate=bool(received and received.duplicate),
        questions_left=len(questions),
    )
    t = states.transition(states.MONITORING, conv.step, event)
    ACTIONS[t.action](channel, conv, m, received, questions)
    conv.step = states.next_step(conv.step, t, held=False)
    if conv.step != Step.INTERVIEW:
        conv.state = {}


def _escalate(channel, conv, m, received, questions) -> None:
    actions.escalate(channel, conv.wa_id, m, (m.reply_id or "").split(":", 1)[1])


def _nothing(channel, conv, m, received, questions) -> None:
    pass


def _page(channel, conv, m, received: Received, questions) -> None:
    page(channel, received.case)


def _page_and_interview(channel, conv, m, received: Received, questions) -> None:
    case = received.case
    page(channel, case)
    contact = case.requester
    steps = (["org"] if contact is None or contact.organization_id is None else []) + [
        "service",
        "what",
    ]
    conv.state = {"case": case.number, "steps": steps}
    actions.say(channel, conv.wa_id, actions.text(channel, f"incident_{steps[0]}"))


def _ask_next(channel, conv, m, received, questions: list[str]) -> None:
    rest = questions[1:]
    conv.state = (conv.state or {}) | {"steps": rest}
    actions.say(channel, conv.wa_id, actions.text(channel, f"incident_{rest[0]}"))


def _thank_with_escalation(channel, conv, m, received: Received, questions) -> None:
    number = received.case.number
    actions.buttons(
        channel,
        conv.wa_id,
        actions.text(channel, "incident_done", number=number),
        [(f"escalar:{number}", actions.text(channel, "escalate_button"))],
    )


ACTIONS = {
    "escalate": _escalate,
    "nothing": _nothing,
    "page": _page,
    "page_and_interview": _page_and_interview,
    "ask_next": _ask_next,
    "thank_with_escalation": _thank_with_escalation,
}


def page(channel: Channel, case: Case) -> None:
    """Page the level-1 group and the monitoring on-call: WhatsApp (template) where they
    have a number, email for the rest; through the "notify" job."""
    recipients: list[dict[str, str]] = []
    template = (channel.settings or {}).get("template_page") or "pagina_incidente_critico"

    def add(kind: str, address: str, name: str = "") -> None:
        # Phone numbers go to E.164, and duplicates are dropped, by queue_notifications.
        address = address.strip()
        if address:
            recipients.append(
                {"kind": kind, "address": address, "name": name}
                | ({"template": template} if kind == "whatsapp" else {})
            )

    level = reads.first_level()
    if level is not None:
        for c in level.contacts or []:
            if c.get("kind") in ("whatsapp", "email"):
                add(c["kind"], str(c.get("value", "")), c.get("label", ""))
        for user in reads.active_members(level):
            add("email", user.email, user.name)
    settings = channel.settings or {}
    for number in split_list(settings.get("oncall_whatsapp")):
        add("whatsapp", number)
    for address in split_list(settings.get("oncall_email")):
        add("email", address)
    if not recipients:
        log.warning("whatsapp: nobody to page for %s", case.number)
        return
    who = case.requester.name if case.requester else "un contacto"
    body = actions.text(
        channel, "page", number=case.number, channel=channel.name, who=who, subject=case.subject
    )
    queue.enqueue(
        "notify",
        {
            "case_id": case.pk,
            "event": "incident.page",
            "subject": f"Incidente crítico {case.number}",
            "body": body,
            "recipients": recipients,
        },
    )
