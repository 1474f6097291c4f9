"""`atiende cti-simulate --line linea-bogota --from 3001234567 [--to …] [--agent …]
[--missed]`: post a whole call's generic-CTI events (newCall, answer, hangup), signed with
the line's token, to a running atiende — to try the phone channel without a PBX."""

from __future__ import annotations

import time

import httpx
from django.core.management.base import BaseCommand, CommandError

from atiende.channels.phone import conf, simulate


class Command(BaseCommand):
    help = "Envía a un atiende en ejecución los eventos de una llamada, como lo haría la central."

    def add_arguments(self, parser):
        parser.add_argument("--line", required=True, help="línea (p. ej. linea-bogota)")
        parser.add_argument("--from", dest="from_", required=True, help="número que llama")
        parser.add_argument("--to", default=None, help="número llamado (por omisión, la línea)")
        parser.add_argument("--agent", default="", help="nombre del agente que contesta")
        parser.add_argument(
            "--answering-number", default="", help="extensión o teléfono del agente que contesta"
        )
        parser.add_argument("--missed", action="store_true", help="nadie contesta")
        parser.add_argument("--cause", default="", help="causa del colgado (busy, cancel, …)")
        parser.add_argument("--out", action="store_true", help="llamada saliente (del agente)")
        parser.add_argument("--queue", default="", help="cola o grupo de timbrado")
        parser.add_argument("--call-id", default="", help="identificador de la llamada")
        parser.add_argument(
            "--seconds", type=float, default=0, help="duración de la conversación (espera)"
        )
        parser.add_argument("--form", action="store_true", help="enviar como formulario (CURL())")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="base de atiende (%(default)s)"
        )
        parser.add_argument(
            "--token", default=None, help="token de la línea (por omisión, su variable de entorno)"
        )

    def handle(self, *args, **opts):
        line = conf.line(opts["line"])
        if line is None:
            raise CommandError(f"No existe la línea telefónica activa {opts['line']!r}.")
        token = opts["token"] if opts["token"] is not None else conf.token(line)
        if not token:
            name = (line.settings or {}).get("token_env") or "(la línea no nombra ninguna)"
            raise CommandError(f"Falta el token: defina {name} o use --token.")
        ours = opts["to"] if opts["to"] is not None else line.address
        frm, to = (ours, opts["from_"]) if opts["out"] else (opts["from_"], ours)
        events = simulate.call_events(
            from_=frm,
            to=to,
            direction="out" if opts["out"] else "in",
            agent=opts["agent"],
            answering_number=opts["answering_number"],
            missed=opts["missed"],
            cause=opts["cause"],
            queue=opts["queue"],
            call_id=opts["call_id"],
        )
        url = f"{opts['url'].rstrip('/')}/webhooks/cti/{line.slug}"
        with httpx.Client(timeout=10) as client:
            pending = list(events)
            while pending:
                event = pending.pop(0)
                if event["event"] == "hangup" and opts["seconds"] and not opts["missed"]:
                    time.sleep(opts["seconds"])
                try:
                    resp = simulate.post(client, url, token, event, form=opts["form"])
                except httpx.HTTPError as exc:
                    raise CommandError(f"No se pudo conectar con {url}: {exc}") from exc
                self.stdout.write(f"{event['event']}: {resp.status_code} {resp.text.strip()}")
                if resp.status_code != 200:
                    raise CommandError("atiende no aceptó el evento.")
                if resp.headers.get("content-type", "").startswith("application/json") and (
                    resp.json().get("action") == "reject"
                ):
                    # As a PBX obeying the answer: refuse the call, still send its hangup.
                    self.stdout.write("la línea rechaza el número: la central cuelga (ocupado)")
                    pending = [{**events[-1], "cause": "busy"}]
                    pending[0].pop("answeringNumber", None)
        self.stdout.write(f"llamada {events[0]['callId']} enviada a {url}")
