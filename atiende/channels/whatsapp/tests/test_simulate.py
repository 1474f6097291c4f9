"""`atiende whatsapp-simulate` posts a signed notification to a running atiende over HTTP."""

import pytest
from django.core.management import CommandError, call_command

from atiende.cases.models import Note
from atiende.worker import queue
from atiende.worker.models import Job


@pytest.mark.django_db(transaction=True)
def test_simulate_posts_a_signed_webhook_that_a_running_server_accepts(
    live_server, graph, monitoreo, capsys, monkeypatch
):
    monkeypatch.delenv("ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID")  # routed by the display number
    call_command(
        "whatsapp_simulate",
        "Se cayó el servicio",
        channel="whatsapp-monitoreo",
        wa_id="573001112233",
        url=live_server.url,
    )
    assert capsys.readouterr().out.startswith("200 ok")
    assert Job.objects.filter(kind="whatsapp.webhook").count() == 1
    queue.run_pending(1)
    assert Note.objects.get(direction="inbound").body_text == "Se cayó el servicio"


@pytest.mark.django_db(transaction=True)
def test_simulate_with_the_wrong_secret_is_refused(live_server, graph, monitoreo):
    with pytest.raises(CommandError, match="no aceptó"):
        call_command(
            "whatsapp_simulate",
            "hola",
            channel="whatsapp-monitoreo",
            wa_id="573001112233",
            url=live_server.url,
            secret="otro",
        )
    assert not Job.objects.exists()


def test_simulate_needs_a_whatsapp_channel(db, graph):
    with pytest.raises(CommandError, match="No existe"):
        call_command("whatsapp_simulate", "hola", channel="correo", wa_id="573001112233")


@pytest.mark.django_db(transaction=True)
def test_simulate_a_user_who_hides_the_number(live_server, graph, monitoreo, capsys):
    from atiende.cases.models import Case

    call_command(
        "whatsapp_simulate",
        "Sin número",
        channel="whatsapp-monitoreo",
        user_id="US.13491208655302741918",
        name="ana.gomez",
        url=live_server.url,
    )
    assert capsys.readouterr().out.startswith("200 ok")
    queue.run_pending(1)
    contact = Case.objects.get().requester
    assert (contact.whatsapp_user_id, contact.whatsapp_id, contact.name) == (
        "US.13491208655302741918",
        None,
        "ana.gomez",
    )


def test_simulate_needs_a_number_or_a_user_id(db, graph, monitoreo):
    with pytest.raises(CommandError, match="--user-id"):
        call_command("whatsapp_simulate", "hola", channel="whatsapp-monitoreo")
