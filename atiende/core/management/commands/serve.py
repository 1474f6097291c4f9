import os
import secrets
import signal
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from atiende.worker import loop

ADMIN_EMAIL = "admin@atiende.local"


class Command(BaseCommand):
    help = (
        "Migrate, load the configuration into an empty database, create the first admin, "
        "and serve atiende (waitress) with one in-process background worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ATIENDE_BIND", "127.0.0.1:8000"))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("ATIENDE_THREADS", "8")))
        parser.add_argument("--no-worker", action="store_true", help="do not run the in-process worker")

    def handle(self, *args, bind, threads, no_worker, **options):
        from waitress import serve

        from atiende.configuration import loader
        from atiende.wsgi import application

        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"ATIENDE_BIND must be host:port, got {bind!r}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        report = loader.load_if_empty(settings.ATIENDE_CONFIG)
        if report is not None:
            self.stdout.write(f"configuración cargada desde {settings.ATIENDE_CONFIG}")
        admin_line = self._ensure_admin()

        stop = threading.Event()
        if not no_worker:
            _thread, stop = loop.start_in_thread()

        def shutdown(*_):
            stop.set()
            sys.exit(0)

        signal.signal(signal.SIGTERM, shutdown)
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        self.stdout.write(
            f"\natiende está en http://{shown}:{port}/\n"
            f"  canales de atención: http://{shown}:{port}/canales\n"
            f"  administración:      http://{shown}:{port}/admin/\n"
            f"  API (OpenAPI):       http://{shown}:{port}/api/v1/docs\n"
            f"{admin_line}\n"
            f"  datos en {settings.DATA_DIR}\n"
        )
        self.stdout.flush()
        serve(application, host=host, port=int(port), threads=threads, ident="atiende")

    def _ensure_admin(self) -> str:
        from atiende.accounts import services
        from atiende.accounts.models import Role, User

        if User.objects.filter(role=Role.ADMIN).exists():
            return "  inicie sesión con su cuenta de administrador"
        email = os.environ.get("ATIENDE_ADMIN_EMAIL", ADMIN_EMAIL)
        password = os.environ.get("ATIENDE_ADMIN_PASSWORD")
        where = "ATIENDE_ADMIN_PASSWORD"
        if not password:
            password = secrets.token_urlsafe(12)
            path = settings.DATA_DIR / "admin-password.txt"
            path.write_text(f"{email}\n{password}\n")
            path.chmod(0o600)
            where = str(path)
        services.create_user(email=email, name="Administrador", role=Role.ADMIN, password=password)
        return f"  usuario administrador: {email} (contraseña en {where})"
