"""Run by test_backup.py in its own process, against the environment it is given.

`python backup_load.py write STOPFILE` seeds a customer, then opens cases — each with a
note and an attachment of its own bytes — in a loop until STOPFILE exists.
`python backup_load.py dump` prints every case with its notes and attachments' bytes' sha256
(read back from the store) as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    django.setup()


def write(stopfile: str) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", interactive=False, verbosity=0)
    from atiende.accounts import services as accounts
    from atiende.accounts.models import Role
    from atiende.cases import services as cases
    from atiende.configuration import loader
    from atiende.customers import services as customers
    from atiende.directory.models import Channel

    loader.load_if_empty(settings.ATIENDE_CONFIG)
    org = customers.create_organization(name="ACME", slug="acme")
    agent = accounts.create_user(
        email="agente@mesa.test", name="Agente", role=Role.AGENT, password="x-Clave-larga-1"
    )
    channel = Channel.objects.filter(kind="portal").first() or Channel.objects.first()
    i = 0
    Path(stopfile + ".ready").write_text("")
    while not os.path.exists(stopfile):
        i += 1
        with transaction.atomic():  # a case arrives whole: with its note and attachment
            _one(cases, agent, channel, org, i)


def _one(cases, agent, channel, org, i: int) -> None:
    case = cases.open_case(
        actor=agent,
        channel=channel,
        subject=f"Caso bajo carga {i}",
        description="descripción",
        type="request",
        priority="moderate",
        organization=org,
    )
    note = cases.add_note(
        case=case, body_text=f"nota {i} " + "ñ" * (i % 50), actor=agent, visibility="internal"
    )
    content = hashlib.sha256(str(i).encode()).digest() * (50 + i % 200)
    cases.add_attachment(
        case=case, filename=f"anexo-{i}.bin", chunks=[content], actor=agent, note=note
    )


def dump() -> None:
    from atiende.cases import storage
    from atiende.cases.models import Case

    out = {}
    for case in Case.objects.prefetch_related("notes", "attachments").order_by("id"):
        out[case.number] = {
            "subject": case.subject,
            "notes": sorted(
                [n.id, hashlib.sha256(n.body_text.encode()).hexdigest()] for n in case.notes.all()
            ),
            "attachments": sorted(
                [a.id, a.sha256, hashlib.sha256(storage.read_bytes(a.sha256)).hexdigest()]
                for a in case.attachments.all()
            ),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    _setup()
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        dump()
