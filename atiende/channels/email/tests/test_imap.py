"""The IMAP poller against a real Dovecot: nothing lost, nothing doubled."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import threading
import time

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.email import conf, imap
from atiende.channels.email.models import MailboxState, QuarantinedEmail, ReceivedEmail
from atiende.channels.email.tests.conftest import ATIENDE, fixture, subprocess_env
from atiende.core.errors import InvalidInput
from atiende.customers.models import Contact
from atiende.worker import queue


def numbered(i: int) -> bytes:
    return (
        f"From: Cliente {i} <cliente{i}@acme.com.co>\r\nTo: mesadeayuda@certicamara.com\r\n"
        f"Subject: Solicitud número {i}\r\nMessage-ID: <lote-{i}@acme.com.co>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Mensaje {i} del lote, con tildes: camión, año.\r\n"
    ).encode()


@pytest.mark.usefixtures("frozen", "sla_targets")
class TestPoller:
    def test_a_pass_stores_new_mail_and_moves_it_to_the_processed_folder(
        self, dovecot, correo, acme
    ):
        dovecot.deliver(
            [fixture("plain.eml"), fixture("html_only.eml"), fixture("latin1_mislabeled.eml")]
        )
        result = imap.poll_once(correo)
        assert (result.fetched, result.stored) == (3, 3)
        assert Case.objects.count() == 3
        assert dovecot.count("INBOX") == 0 and dovecot.count("Procesados") == 3
        state = MailboxState.objects.get(channel=correo, folder="INBOX")
        assert state.last_uid == 3 and state.uidvalidity
        assert imap.poll_once(correo).fetched == 0

    def test_the_same_message_delivered_twice_is_one_note(self, dovecot, correo, acme):
        dovecot.deliver([fixture("plain.eml"), fixture("plain_other_folder.eml")])
        result = imap.poll_once(correo)
        assert (result.stored, result.duplicate) == (1, 1)
        assert Note.objects.filter(direction="inbound").count() == 1

    def test_a_malformed_message_is_quarantined_without_blocking_the_next(
        self, dovecot, correo, acme
    ):
        dovecot.deliver([fixture("plain.eml"), fixture("malformed.eml"), fixture("html_only.eml")])
        result = imap.poll_once(correo)
        assert (result.stored, result.quarantined) == (2, 1)
        assert QuarantinedEmail.objects.get().source.startswith("imap:INBOX:")
        assert dovecot.count("INBOX") == 0

    def test_one_fetch_stores_repeats_once_and_knows_a_new_sender_by_their_second_mail(
        self, dovecot, correo, acme
    ):
        # All of these go in one transaction (intake.ingest_many): what the first mails
        # store must be seen by the later ones.
        correo.settings |= {"auto_reply_max": 1}
        correo.save()
        again = numbered(1).replace(b"Cliente 1 <cliente1@", b"Cliente Nuevo <nuevo@")
        dovecot.deliver(
            [
                numbered(1).replace(b"cliente1@acme.com.co", b"nuevo@acme.com.co"),
                numbered(2),
                numbered(1).replace(b"cliente1@acme.com.co", b"nuevo@acme.com.co"),
                again.replace(b"<lote-1@", b"<lote-1b@"),
            ]
        )
        result = imap.poll_once(correo)
        assert (result.fetched, result.stored, result.duplicate) == (4, 3, 1)
        assert Contact.objects.filter(emails__address="nuevo@acme.com.co").count() == 1
        cases = list(Case.objects.filter(requester__emails__address="nuevo@acme.com.co"))
        assert len(cases) == 2
        # At most one automatic answer per interval: the second case got none.
        acks = Note.objects.filter(case__in=cases, automatic=True)
        assert acks.count() == 1
        assert ReceivedEmail.objects.count() == 3

    def test_a_mail_that_fails_to_store_is_quarantined_and_the_rest_of_its_group_stored(
        self, dovecot, correo, acme, monkeypatch
    ):
        from atiende.channels.email import intake

        real = intake.receive_message

        def failing(msg, **kwargs):  # a bug that strikes one message only
            if "número 2" in msg.subject:
                raise RuntimeError("fallo de prueba")
            return real(msg, **kwargs)

        monkeypatch.setattr(intake, "receive_message", failing)
        dovecot.deliver([numbered(i) for i in range(1, 6)])
        result = imap.poll_once(correo)
        assert (result.stored, result.quarantined) == (4, 1)
        assert "fallo de prueba" in QuarantinedEmail.objects.get().reason
        assert Note.objects.filter(direction="inbound").count() == 4
        assert ReceivedEmail.objects.count() == 4 and dovecot.count("INBOX") == 0

    def test_a_new_uidvalidity_rescans_without_doubling(self, dovecot, correo, acme):
        correo.settings |= {"imap_after": "seen"}
        correo.save()
        dovecot.deliver([fixture("plain.eml"), fixture("html_only.eml")])
        assert imap.poll_once(correo).stored == 2
        MailboxState.objects.update(uidvalidity=1, last_uid=99)
        # The seen flag keeps them out of a seen-mode rescan; clear it as a new server would.
        c = dovecot.client()
        c.select_folder("INBOX")
        c.remove_flags(c.search("ALL"), [b"\\Seen"])
        c.logout()
        again = imap.poll_once(correo)
        assert (again.fetched, again.duplicate) == (2, 2)
        assert Note.objects.filter(direction="inbound").count() == 2

    def test_seen_mode_flags_instead_of_moving(self, dovecot, correo, acme):
        correo.settings |= {"imap_after": "seen"}
        correo.save()
        dovecot.deliver([fixture("plain.eml")])
        assert imap.poll_once(correo).stored == 1
        assert dovecot.count("INBOX") == 1 and dovecot.count("Procesados") == 0
        c = dovecot.client()
        c.select_folder("INBOX")
        assert c.search(["UNSEEN"]) == []
        c.logout()

    def test_mail_stored_before_a_crash_is_recognised_and_moved(self, dovecot, correo, acme):
        from atiende.channels.email import intake

        dovecot.deliver([fixture("plain.eml")])
        intake.ingest(fixture("plain.eml"), channel="correo")  # committed, never moved
        result = imap.poll_once(correo)
        assert (result.stored, result.duplicate) == (0, 1) and dovecot.count("INBOX") == 0

    def test_the_worker_polls_every_minute(self, dovecot, correo, acme):
        dovecot.deliver([fixture("plain.eml")])
        queue.ensure_periodic()
        assert "email.poll" in queue.run_periodic()
        assert Case.objects.count() == 1

    def test_idle_wakes_up_when_mail_arrives(self, dovecot, correo):
        stop = threading.Event()
        timer = threading.Timer(0.5, dovecot.deliver, args=([fixture("plain.eml")],))
        timer.start()
        started = time.monotonic()
        imap.wait_for_mail(correo, timeout=20, stop=stop)
        timer.join()
        assert time.monotonic() - started < 10

    def test_a_channel_without_imap_url_is_skipped(self, correo):
        assert imap.poll_once(correo).fetched == 0


@pytest.mark.django_db(transaction=True)
def test_a_poller_killed_mid_batch_stores_all_100_exactly_once_after_restart(
    dovecot, correo, acme, sla_targets
):
    dovecot.deliver([numbered(i) for i in range(100)])
    env = subprocess_env(ATIENDE_CORREO_IMAP_URL=dovecot.url)
    cmd = [ATIENDE, "poll-email", "--once", "--channel", "correo"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while (
        ReceivedEmail.objects.count() < 15 and time.monotonic() < deadline and proc.poll() is None
    ):
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stored_at_kill = ReceivedEmail.objects.count()
    assert 0 < stored_at_kill < 100, "the kill must land in the middle of the batch"
    assert dovecot.count("INBOX") > 0

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    inbound = Note.objects.filter(direction="inbound", channel=correo)
    assert inbound.count() == 100
    assert len(set(inbound.values_list("external_id", flat=True))) == 100
    assert Case.objects.count() == 100 and ReceivedEmail.objects.count() == 100
    assert dovecot.count("INBOX") == 0 and dovecot.count("Procesados") == 100


class TestURLs:
    def test_plain_imap_with_percent_encoded_credentials_and_folder(self):
        url = conf.parse_url(
            "imap://mesa%40acme.co:cl%20ave%2F1@mail.example.co/Soporte%20Entrante", kind="imap"
        )
        assert (url.host, url.port, url.user, url.password) == (
            "mail.example.co",
            143,
            "mesa@acme.co",
            "cl ave/1",
        )
        assert url.folder == "Soporte Entrante" and not url.ssl and url.auth == "password"

    def test_defaults_per_scheme(self):
        assert conf.parse_url("imaps://u:p@h", kind="imap").port == 993
        assert conf.parse_url("imaps://u:p@h", kind="imap").folder == "INBOX"
        assert conf.parse_url("imap+starttls://u:p@h", kind="imap").starttls
        assert conf.parse_url("smtps://u:p@h", kind="smtp").port == 465
        assert conf.parse_url("smtp+starttls://u:p@h", kind="smtp").port == 587
        assert conf.parse_url("smtp://h", kind="smtp").auth == "none"

    def test_oauth2_reads_the_token_from_the_named_variable(self, monkeypatch):
        url = conf.parse_url(
            "imaps://buzon@empresa.onmicrosoft.com@outlook.office365.com"
            "?auth=xoauth2&token_env=MS_TOKEN",
            kind="imap",
        )
        monkeypatch.setenv("MS_TOKEN", "tok123")
        assert url.auth == "xoauth2" and url.token() == "tok123"
        raw = conf.xoauth2(url.user, url.token())
        assert base64.b64encode(raw.encode()) == base64.b64encode(
            b"user=buzon@empresa.onmicrosoft.com\x01auth=Bearer tok123\x01\x01"
        )

    def test_wrong_scheme_is_explained(self):
        with pytest.raises(InvalidInput, match="imaps://"):
            conf.parse_url("pop3://h", kind="imap")
