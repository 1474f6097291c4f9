"""`atiende whatsapp-simulate --channel whatsapp-monitoreo --from 573001112233 "texto"`:
post a correctly signed webhook notification to a running atiende, to try the flows
without Meta. `--reply ID` taps a button or list option instead (e.g. menu:estado);
`--user-id US.…` adds a business-scoped user id, and without `--from` plays a user who
hides the number."""

from __future__ import annotations

import httpx
from django.core.management.base import BaseCommand, CommandError

from atiende.channels.whatsapp import conf, simulate
from atiende.customers.phones import to_e164
from atiende.directory import selectors


class Command(BaseCommand):
    help = "Envía a un atiende en ejecución un webhook de WhatsApp firmado, como lo haría Meta."

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="?", default="", help="texto del mensaje")
        parser.add_argument(
            "--channel", required=True, help="identificador del canal (p. ej. whatsapp-monitoreo)"
        )
        parser.add_argument(
            "--from",
            dest="wa_id",
            default="",
            help="número del cliente, solo dígitos (573001112233)",
        )
        parser.add_argument(
            "--user-id",
            default=None,
            help="identificador de usuario (BSUID, p. ej. US.13491208655302741918); "
            "sin --from simula un cliente que oculta su número",
        )
        parser.add_argument("--name", default="", help="nombre de perfil del cliente")
        parser.add_argument(
            "--reply",
            default=None,
            help="id de botón u opción de lista (menu:estado, escalar:CS0000001)",
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="base de atiende (por omisión %(default)s)",
        )
        parser.add_argument(
            "--secret",
            default=None,
            help="secreto de la app (por omisión ATIENDE_WHATSAPP_APP_SECRET)",
        )

    def handle(self, *args, **opts):
        channel = selectors.channel(opts["channel"])
        if channel is None or channel.kind != "whatsapp":
            raise CommandError(f"No existe el canal de WhatsApp {opts['channel']!r}.")
        secret = opts["secret"] if opts["secret"] is not None else conf.app_secret()
        if not secret:
            raise CommandError(
                "Falta el secreto: defina ATIENDE_WHATSAPP_APP_SECRET o use --secret."
            )
        if not opts["wa_id"] and not opts["user_id"]:
            raise CommandError("Indique el número (--from) o el usuario (--user-id).")
        if not opts["text"] and not opts["reply"]:
            raise CommandError("Escriba un texto o use --reply.")
        display = to_e164(channel.address).lstrip("+") if channel.address else ""
        body = simulate.text_notification(
            phone_number_id=conf.phone_number_id(channel),
            display_phone_number=display,
            wa_id="".join(ch for ch in opts["wa_id"] if ch.isdigit()),
            text=opts["text"],
            name=opts["name"],
            reply_id=opts["reply"],
            user_id=opts["user_id"],
        )
        raw = simulate.encode(body)
        url = opts["url"].rstrip("/") + "/webhooks/whatsapp"
        try:
            resp = httpx.post(
                url,
                content=raw,
                timeout=10,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": simulate.sign(secret, raw),
                },
            )
        except httpx.HTTPError as exc:
            raise CommandError(f"No se pudo conectar con {url}: {exc}") from exc
        msg_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        self.stdout.write(f"{resp.status_code} {resp.text.strip()} — mensaje {msg_id} a {url}")
        if resp.status_code != 200:
            raise CommandError("atiende no aceptó el webhook.")
