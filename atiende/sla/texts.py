"""Spanish wording of instants and the acknowledgement templates (editable as settings)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from atiende.core.text import fill

WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]

# Templates use {placeholders}; admins edit them as settings `texts.<key>` (see
# docs/configuration.md). Unknown placeholders are left as they are.
DEFAULT_TEXTS = {
    "ack": "Hemos recibido su solicitud. Su caso es el {number}. Le responderemos por este medio.",
    "ack_out_of_hours": (
        "Hemos recibido su solicitud. Su caso es el {number}. En este momento el canal «{channel}» "
        "está fuera de su horario de atención ({hours}); su caso será atendido a partir del {when}."
    ),
    "ack_incident_24x7": (
        "Si se trata de un incidente, puede reportarlo en cualquier momento (24/7) por: {channels_24x7}."
    ),
}


def when_es(instant: dt.datetime, timezone: str = "America/Bogota") -> str:
    """'lunes 1 de diciembre a las 7:00 a. m.'"""
    local = instant.astimezone(ZoneInfo(timezone))
    hour = local.hour % 12 or 12
    suffix = "a. m." if local.hour < 12 else "p. m."
    article = "la" if hour == 1 else "las"
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} de {MONTHS[local.month - 1]} "
        f"a {article} {hour}:{local.minute:02d} {suffix}"
    )


WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def when_en(instant: dt.datetime, timezone: str = "America/Bogota") -> str:
    """'Monday 1 December at 7:00 a.m.'"""
    local = instant.astimezone(ZoneInfo(timezone))
    hour = local.hour % 12 or 12
    suffix = "a.m." if local.hour < 12 else "p.m."
    return f"{WEEKDAYS_EN[local.weekday()]} {local.day} {MONTHS_EN[local.month - 1]} at {hour}:{local.minute:02d} {suffix}"


# Placeholders are filled by the one text-template helper (core.text); unknown ones stay.
render = fill
