"""What a WhatsApp channel's `settings:` may say, and their check (which the configuration
loader runs through conf.check_options).

Pure: no database, no Django models. `TEXTS` are the guided flows' Spanish defaults; a
channel replaces one with the setting `text_<key>` (docs/whatsapp.md lists them all, and a
test keeps that list equal to this dict).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from atiende.core.errors import InvalidInput
from atiende.customers.phones import to_e164

TEXTS = {
    "menu": "Hola{name}, le damos la bienvenida a {channel}. ¿En qué podemos ayudarle?",
    "menu_button": "Ver opciones",
    "ask_request": "Cuéntenos en un mensaje qué necesita y crearemos su caso.",
    "ask_incident": "Describa el incidente: qué servicio está afectado y qué está pasando.",
    "ask_number": "Escriba el número de su caso (por ejemplo CS0000123).",
    "agent": "Un agente de servicio le responderá por este medio en su horario de atención.",
    "not_found": "No encontramos un caso con el número {number} para usted. Revise el número o escriba «menú».",
    "no_number": "No reconocimos un número de caso en su mensaje. Escriba el número (por ejemplo CS0000123) "
    "o «menú» para volver.",
    "status": "Caso {number} — {subject}\nEstado: {status}. Nivel de escalamiento: {level}.{last}",
    "incident_org": "Para atenderle mejor: ¿de qué organización nos escribe?",
    "incident_service": "¿Qué servicio está afectado?",
    "incident_what": "Describa qué está pasando (desde cuándo, a quiénes afecta, mensajes de error).",
    "incident_done": "Gracias. El Centro de Monitoreo ya está atendiendo su incidente {number}; "
    "le escribiremos por este medio.",
    "escalate_button": "Pedir escalamiento",
    "escalate_unavailable": "En este momento no es posible solicitar el escalamiento por WhatsApp; "
    "dejamos su solicitud en el caso {number} para un agente.",
    "escalate_refused": "No es posible escalar el caso {number}: {reason}",
    "page": "Incidente crítico {number} reportado por WhatsApp ({channel}) por {who}: {subject}",
}

# When each text is used (for the documentation table).
TEXT_USES = {
    "menu": "corporate line: the menu's greeting (`{name}` is a space and the profile name, or empty)",
    "menu_button": "corporate line: the button that opens the menu (≤ 20 characters)",
    "ask_request": "corporate line, after «Nueva solicitud»",
    "ask_incident": "corporate line, after «Reportar un incidente»",
    "ask_number": "corporate line, after «Estado de mi caso»",
    "agent": "corporate line, after «Hablar con un agente»",
    "not_found": "status or escalation asked for a case that is not the contact's",
    "no_number": "status asked without a case number",
    "status": "the answer to «Estado de mi caso» (`{last}` is the latest public answer, or empty)",
    "incident_org": "monitoring line: asked when the number belongs to no organization",
    "incident_service": "monitoring line: the affected service",
    "incident_what": "monitoring line: what is happening",
    "incident_done": "monitoring line: end of the questions, with the escalation button",
    "escalate_button": "the escalation button's title (≤ 20 characters)",
    "escalate_unavailable": "escalation asked where the escalation ladder is not installed",
    "escalate_refused": "escalation refused, with the reason",
    "page": "the page to the level-1 group and the on-call for a critical incident",
}

FLOWS = ("monitoring", "corporate")
# Plain options (text_<key> aside); `*_env` names of environment variables are checked by
# the loader for every channel kind.
KNOWN = (
    "phone_number_id_env",
    "flow",
    "oncall_whatsapp",
    "oncall_email",
    "template_note",
    "template_notification",
    "template_page",
    "template_language",
    "media_by_link",
    "menu_wait_minutes",
)
# Longest wait for the corporate menu's choice before held messages reach a case anyway.
MAX_WAIT_MINUTES = 7 * 24 * 60
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def split_list(value: Any) -> list[str]:
    """'a, b,,c' → ['a', 'b', 'c'] (a number written bare in YAML is read as one item)."""
    if value is None or value is False:
        return []
    return [item.strip() for item in str(value).split(",") if item.strip()]


def check(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of a WhatsApp channel's settings as (setting name, message)."""
    found: list[tuple[str, str]] = []
    for key, value in settings.items():
        if key.startswith("text_"):
            name = key.removeprefix("text_")
            if name not in TEXTS:
                close = difflib.get_close_matches(name, list(TEXTS), n=1)
                found.append(
                    (
                        key,
                        f"unknown flow text {name!r}"
                        + (
                            f" (did you mean 'text_{close[0]}'?)"
                            if close
                            else f" (expected one of: {', '.join(TEXTS)})"
                        ),
                    )
                )
            elif not isinstance(value, str) or not value.strip():
                found.append((key, "expected the text that replaces the default"))
            else:
                extra = placeholders(value) - placeholders(TEXTS[name])
                if extra:
                    allowed = ", ".join("{" + p + "}" for p in sorted(placeholders(TEXTS[name])))
                    found.append(
                        (
                            key,
                            f"unknown placeholder {', '.join('{' + p + '}' for p in sorted(extra))}"
                            f" (this text knows: {allowed or 'none'})",
                        )
                    )
        elif key == "flow":
            if value not in FLOWS:
                found.append(
                    (key, f"unknown value {value!r} (expected one of: {', '.join(FLOWS)})")
                )
        elif key == "oncall_whatsapp":
            for number in split_list(value):
                try:
                    to_e164(number)
                except InvalidInput:
                    found.append(
                        (key, f"{number!r} is not a phone number (write it like +57 300 123 4567)")
                    )
        elif key == "oncall_email":
            for address in split_list(value):
                try:
                    validate_email(address)
                except ValidationError:
                    found.append((key, f"{address!r} is not an e-mail address"))
        elif key in ("template_note", "template_notification", "template_page"):
            if not isinstance(value, str) or not _TEMPLATE_NAME.match(value):
                found.append(
                    (key, "a template name uses lowercase letters, digits and '_' (as in Meta)")
                )
        elif key == "template_language":
            if not isinstance(value, str) or not _LANGUAGE.match(value):
                found.append((key, f"{value!r} is not a language code like 'es' or 'es_CO'"))
        elif key == "menu_wait_minutes":
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= MAX_WAIT_MINUTES
            ):
                found.append(
                    (key, f"expected a whole number of minutes from 1 to {MAX_WAIT_MINUTES}")
                )
        elif key == "media_by_link":
            if not isinstance(value, bool):
                found.append((key, "expected true or false"))
        elif key not in KNOWN and not key.endswith("_env"):
            close = difflib.get_close_matches(key, [*KNOWN, *(f"text_{k}" for k in TEXTS)], n=1)
            found.append(
                (
                    key,
                    f"unknown WhatsApp setting {key!r}"
                    + (
                        f" (did you mean {close[0]!r}?)"
                        if close
                        else f" (expected one of: {', '.join(KNOWN)}, text_<key>)"
                    ),
                )
            )
    return found


def texts_markdown() -> str:
    """The table of editable texts in docs/whatsapp.md (a test keeps them equal)."""
    rows = ["| setting | used for | default (es-CO) |", "|---|---|---|"]
    for key, default in TEXTS.items():
        shown = default.replace("\n", "\\n")
        rows.append(f"| `text_{key}` | {TEXT_USES[key]} | `{shown}` |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m atiende.channels.whatsapp.options: the docs table
    print(texts_markdown())
