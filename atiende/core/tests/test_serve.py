"""`atiende serve`: its web processes, the first admin and the secret files."""

import gc
import os
import pathlib
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.core.management.base import CommandError

from atiende.accounts.models import User
from atiende.core.management.commands import serve


def test_a_web_process_leaves_its_loaded_code_out_of_full_collections():
    said = []
    worker = SimpleNamespace(tpool=None, cfg=SimpleNamespace(threads=2), log=SimpleNamespace())
    worker.log.info = lambda message, *args: said.append(message % args)
    gc.unfreeze()
    try:
        serve._worker_ready(worker, run_jobs=False)
        assert gc.get_freeze_count() > 10_000  # Django and atiende, loaded by the test run
    finally:
        gc.unfreeze()
    assert said == [f"web process {os.getpid()} ready"]


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["worker", "poll_email"])
def test_a_worker_and_an_email_poller_leave_their_loaded_code_out_too(command):
    from django.core.management import call_command

    gc.unfreeze()
    try:
        if command == "worker":
            call_command("worker", once=True)
        else:  # no mailbox configured: the command stops after loading what a pass runs
            with pytest.raises(CommandError):
                call_command("poll_email", once=True)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


@pytest.mark.django_db
def test_without_the_mechanism_nothing_is_frozen(monkeypatch):
    from django.core.management import call_command

    from atiende.core import mechanisms

    monkeypatch.setattr(mechanisms, "GC_FREEZE", False)
    gc.unfreeze()
    call_command("worker", once=True)
    assert gc.get_freeze_count() == 0


# -- the first admin and the secret files --


@pytest.fixture
def no_chmod(monkeypatch):
    """A secret file must be private from its first byte: chmod after writing is too late."""

    def refuse(self, mode, **kwargs):
        raise AssertionError(f"{self} was made private after being written")

    monkeypatch.setattr(pathlib.Path, "chmod", refuse)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: refuse(pathlib.Path(str(a[0])), a[1]))


@pytest.fixture
def loose_umask():
    previous = os.umask(0)  # a umask that would leave a plainly written file world-readable
    yield
    os.umask(previous)


def test_the_generated_admin_password_file_is_private_from_the_start(
    db, settings, tmp_path, monkeypatch, no_chmod, loose_umask
):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("ATIENDE_ADMIN_PASSWORD", raising=False)
    line = serve.Command()._ensure_admin()
    path = tmp_path / "admin-password.txt"
    assert str(path) in line
    assert path.stat().st_mode & 0o777 == 0o600
    email, password = path.read_text().split()
    assert User.objects.get(email=email).check_password(password)


def test_the_secret_key_file_is_private_from_the_start(tmp_path):
    script = (
        "import os, pathlib\n"
        "os.umask(0)\n"
        "def refuse(*a, **k): raise SystemExit('chmod after writing')\n"
        "pathlib.Path.chmod = refuse\n"
        "os.chmod = refuse\n"
        "from django.conf import settings\n"
        "print(len(settings.SECRET_KEY))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ATIENDE_SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="atiende.settings", ATIENDE_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path / "secret_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert int(done.stdout) >= 50
    # A second start reads the same key.
    again = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout.strip() == path.read_text().strip()


@pytest.mark.parametrize(
    "weak",
    ["12345678", "password", "corta", "administrador", "admin@atiende.local"],
)
def test_a_weak_admin_password_stops_the_start_with_a_clear_error(db, monkeypatch, weak):
    monkeypatch.setenv("ATIENDE_ADMIN_PASSWORD", weak)
    with pytest.raises(CommandError) as error:
        serve.Command()._ensure_admin()
    assert str(error.value).startswith("ATIENDE_ADMIN_PASSWORD no sirve")
    assert not User.objects.exists()


def test_a_good_admin_password_from_the_environment_is_used(db, monkeypatch):
    monkeypatch.setenv("ATIENDE_ADMIN_PASSWORD", "Bandeja-paisa-2026")
    line = serve.Command()._ensure_admin()
    assert "ATIENDE_ADMIN_PASSWORD" in line
    assert User.objects.get(role="admin").check_password("Bandeja-paisa-2026")


def test_gunicorn_believes_forwarded_headers_from_the_same_proxies_as_atiende(settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    server = serve.web_server(bind="127.0.0.1:0", workers=1, threads=1, run_jobs=False)
    assert server.cfg.forwarded_allow_ips == ["10.0.0.0/24"]
    settings.TRUSTED_PROXIES = []
    server = serve.web_server(bind="127.0.0.1:0", workers=1, threads=1, run_jobs=False)
    assert server.cfg.forwarded_allow_ips == []  # not gunicorn's default, loopback
