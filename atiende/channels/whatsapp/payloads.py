"""The bodies of the messages the guided flows send (Cloud API message objects, without
`to`). Pure: the flows fill in the texts and queue the sends."""

from __future__ import annotations

from typing import Any

MENU = [
    ("menu:solicitud", "Nueva solicitud", "Requerimientos y cambios"),
    ("menu:incidente", "Reportar un incidente", "Fallas del servicio"),
    ("menu:estado", "Estado de mi caso", "Consultar con el número"),
    ("menu:agente", "Hablar con un agente", "Atención personalizada"),
]


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body[:4096], "preview_url": False}}


def buttons(body: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    """Reply buttons (at most three; titles at most 20 characters)."""
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body[:1024]},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": i, "title": t[:20]}} for i, t in options[:3]
                ]
            },
        },
    }


def menu(greeting: str, button: str) -> dict[str, Any]:
    """The corporate menu as a list message (row titles ≤ 24, descriptions ≤ 72)."""
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": greeting[:1024]},
            "action": {
                "button": button[:20],
                "sections": [
                    {
                        "title": "Opciones",
                        "rows": [
                            {"id": i, "title": t[:24], "description": d[:72]} for i, t, d in MENU
                        ],
                    }
                ],
            },
        },
    }
