import sys

from django.core.management.base import BaseCommand, CommandError

from atiende.accounts import services
from atiende.accounts.models import Role
from atiende.core.errors import InvalidInput


class Command(BaseCommand):
    help = "Create a user. With --api-token, the new token is the last line of the output."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--organization", help="organization slug (customers)")
        parser.add_argument("--group", help="support group slug")
        parser.add_argument(
            "--level",
            type=int,
            help="escalation level (of the configured ladder) this user answers for",
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        parser.add_argument("--api-token", action="store_true", help="also issue an API token")

    def handle(self, *args, **o):
        password = None
        if o["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("empty password on stdin")
        from atiende.customers.selectors import contacts_by_email

        known = bool(contacts_by_email({o["email"].strip().lower()}))
        try:
            user = services.create_user(
                email=o["email"],
                name=o["name"],
                role=o["role"],
                password=password,
                organization=o["organization"],
                group=o["group"],
                level=o["level"],
            )
        except InvalidInput as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            raise CommandError(f"{exc.message} {details}") from exc
        self.stdout.write(f"created {user.role} {user.email} (id {user.pk})")
        if user.contact_id and user.contact.organization_id:
            org = user.contact.organization.slug
            if o["organization"]:
                self.stdout.write(f"organization {org}")
            elif known:
                self.stdout.write(f"organization {org} (la del contacto que ya tenía ese correo)")
            else:
                # Never a silent guess: say where the contact landed and why.
                self.stdout.write(f"organization {org} (deducida del dominio del correo)")
        if o["api_token"]:
            self.stdout.write(services.issue_token(user=user, name="create-user"))
