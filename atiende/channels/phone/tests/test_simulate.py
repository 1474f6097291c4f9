"""`atiende cti-simulate` posts a whole call to a running atiende over HTTP."""

import pytest
from django.core.management import CommandError, call_command

from atiende.channels.phone.models import BlockedNumber, Call, CallEvent
from atiende.worker import queue
from atiende.worker.models import Job


def work() -> None:
    for _ in range(3):
        queue.run_pending(100)


@pytest.mark.django_db(transaction=True)
def test_simulate_posts_an_answered_call_that_a_running_server_accepts(live_server, lines, capsys):
    call_command(
        "cti_simulate", line="linea-bogota", from_="3001234567", agent="Ana", url=live_server.url
    )
    out = capsys.readouterr().out
    assert "newCall: 200 {}" in out and "hangup: 200 {}" in out
    work()
    call = Call.objects.get()
    assert (call.state, call.missed, call.from_e164) == ("ended", False, "+573001234567")
    assert call.to_e164 == "+576017442727"  # the line's own number by default
    assert CallEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_simulate_a_missed_call_as_a_form_posting_dialplan(live_server, lines):
    call_command(
        "cti_simulate",
        line="linea-nacional",
        from_="033123456789",
        missed=True,
        form=True,
        url=live_server.url,
    )
    work()
    call = Call.objects.get()
    assert (call.missed, call.cause, call.caller_e164) == (True, "noAnswer", "+573123456789")
    assert call.case is not None


@pytest.mark.django_db(transaction=True)
def test_simulate_obeys_a_reject_and_still_sends_the_hangup(live_server, lines, capsys):
    BlockedNumber.objects.create(number="+573001234567")
    call_command("cti_simulate", line="linea-bogota", from_="3001234567", url=live_server.url)
    assert "rechaza" in capsys.readouterr().out
    work()
    call = Call.objects.get()
    assert (call.state, call.cause, call.answered_at) == ("ended", "busy", None)


@pytest.mark.django_db(transaction=True)
def test_simulate_with_a_wrong_token_is_refused(live_server, lines):
    with pytest.raises(CommandError, match="no aceptó"):
        call_command(
            "cti_simulate",
            line="linea-bogota",
            from_="3001234567",
            token="otro",
            url=live_server.url,
        )
    assert not Job.objects.exists()


def test_simulate_needs_a_token_and_a_line(lines, monkeypatch):
    monkeypatch.delenv("ATIENDE_CTI_LINEA_BOGOTA_TOKEN")
    with pytest.raises(CommandError, match="ATIENDE_CTI_LINEA_BOGOTA_TOKEN"):
        call_command("cti_simulate", line="linea-bogota", from_="3001234567")
    with pytest.raises(CommandError, match="No existe"):
        call_command("cti_simulate", line="linea-x", from_="3001234567")
