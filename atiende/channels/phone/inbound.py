"""Generic-CTI events as a PBX posts them (JSON or form-encoded) → a plain `CtiEvent`.

Pure: no database. Everything a PBX could send wrong is an `Invalid` with a Spanish reason
(the webhook answers it as 422); fields a PBX adds beyond the contract are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = ("in", "out")
# The hangup causes of the generic-CTI contract, plus `voicemail` (the caller left a
# message) and atiende's own `timeout` (no hangup came: closed by the ringing sweep).
CAUSES = {
    "normalClearing": "finalizada normalmente",
    "busy": "ocupado",
    "cancel": "el cliente colgó antes de ser atendido",
    "noAnswer": "no contestada",
    "congestion": "congestión (no se pudo conectar)",
    "notFound": "número inexistente o fuera de línea",
    "forwarded": "desviada",
    "voicemail": "dejó un mensaje de voz",
    "timeout": "sin colgado de la central (cerrada por tiempo)",
}
MISSED_CAUSES = {"busy", "cancel", "noAnswer", "congestion", "notFound", "voicemail", "timeout"}
MAX_BODY = 64 * 1024
_CAUSE_RE = re.compile(r"^[A-Za-z_]{1,30}$")
# Control characters and lone surrogates (which no UTF-8 body can carry, but a JSON
# escape can): refused in every field.
_CONTROL_RE = re.compile(r"[\x00-\x1f\ud800-\udfff]")


class Invalid(Exception):
    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass
class CtiEvent:
    event: str
    call_id: str
    direction: str
    from_: str = ""
    to: str = ""
    users: list[str] = field(default_factory=list)
    queue: str = ""
    answering_number: str = ""
    cause: str = ""
    recording_url: str = ""

    def as_payload(self) -> dict[str, Any]:
        # `asdict` deep-copies field by field: a tenth of the webhook's CPU for ten strings
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {
            "users": list(self.users)
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> CtiEvent:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def decode_json(raw: bytes) -> dict[str, list[str]]:
    """A JSON body as the same field → values mapping a form gives."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid("El cuerpo no es JSON válido.") from None
    if not isinstance(data, dict):
        raise Invalid("El cuerpo debe ser un objeto JSON.")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        key = key.removesuffix("[]")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, str | int | type(None)):
                raise Invalid(f"El campo {key!r} debe ser texto.", key)
            out.setdefault(key, []).append("" if v is None else str(v))
    return out


def _text(fields: dict[str, list[str]], name: str, max_length: int) -> str:
    values = fields.get(name) or [""]
    if len(values) > 1:
        raise Invalid(f"El campo {name!r} viene repetido.", name)
    value = values[0].strip()
    if len(value) > max_length:
        raise Invalid(f"El campo {name!r} admite máximo {max_length} caracteres.", name)
    if _CONTROL_RE.search(value):
        raise Invalid(f"El campo {name!r} contiene caracteres de control.", name)
    return value


def parse(fields: dict[str, list[str]]) -> CtiEvent:
    """Check and read one event; `fields` maps each field (`user[]` as `user`) to its
    values, as `decode_json` or a form gives them."""
    if "user[]" in fields:
        fields = {**fields, "user": [*fields.get("user", []), *fields["user[]"]]}
    event = _text(fields, "event", 20)
    if event not in EVENTS:
        raise Invalid(
            f"Evento inválido {event!r}: se espera newCall, answer o hangup."
            if event
            else "Falta el evento (event).",
            "event",
        )
    direction = _text(fields, "direction", 10)
    if direction not in DIRECTIONS:
        raise Invalid(f"Dirección inválida {direction!r}: se espera «in» o «out».", "direction")
    call_id = _text(fields, "callId", 250)
    if not call_id:
        raise Invalid("Falta el identificador de la llamada (callId).", "callId")
    users = []
    for name in fields.get("user", [])[:50]:
        name = name.strip()
        if len(name) > 200 or _CONTROL_RE.search(name):
            raise Invalid("Un nombre de agente (user) es inválido.", "user")
        if name and name not in users:
            users.append(name)
    cause = _text(fields, "cause", 30)
    if cause and not _CAUSE_RE.match(cause):
        raise Invalid(f"Causa inválida {cause!r}.", "cause")
    recording = _text(fields, "recordingUrl", 1000)
    if recording:
        parts = urlsplit(recording)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid("La grabación (recordingUrl) debe ser un enlace http(s).", "recordingUrl")
    return CtiEvent(
        event=event,
        call_id=call_id,
        direction=direction,
        from_=_text(fields, "from", 100),
        to=_text(fields, "to", 100),
        users=users,
        queue=_text(fields, "queue", 200),
        answering_number=_text(fields, "answeringNumber", 100),
        cause=cause,
        recording_url=recording,
    )
