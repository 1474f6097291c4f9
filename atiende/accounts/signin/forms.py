"""Sign-in forms: visible Spanish labels (translated through the language switcher) and
one message for every refused sign-in."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from atiende.core import clock

RESET_EVENT = "account.password_reset"
MAX_RESET_MAILS = 3  # per account within the sign-in window

# The same words whether the password was wrong, the account does not exist, is inactive
# or is locked out: nothing tells which accounts exist.
REFUSED = _(
    "No fue posible iniciar sesión: el correo electrónico o la contraseña no son correctos, "
    "o hubo demasiados intentos fallidos. Espere unos minutos e intente de nuevo."
)


class SignInForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=_("Correo electrónico"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Contraseña"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {"invalid_login": REFUSED, "inactive": REFUSED}


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Sends the reset link through atiende's outbox (a notification delivered by the worker
    over the email channel's SMTP), like every other mail atiende sends."""

    email = forms.EmailField(
        label=_("Correo electrónico"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from django.template import loader

        from atiende.channels import services as channel_services
        from atiende.channels.models import Notification

        # A few links per account and window, so the form cannot be used to flood an inbox.
        since = clock.now() - dt.timedelta(seconds=settings.ATIENDE_SIGNIN_WINDOW_SECONDS)
        sent = Notification.objects.filter(
            event=RESET_EVENT, address=to_email, created_at__gte=since
        ).count()
        if sent >= MAX_RESET_MAILS:
            return

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        user = context["user"]
        channel_services.queue_notifications(
            case_id=None,
            event=RESET_EVENT,
            subject=subject,
            body=body,
            recipients=[{"kind": "email", "address": to_email, "name": user.name}],
        )


def _label_passwords(form) -> None:
    fields = form.fields
    if "old_password" in fields:
        fields["old_password"].label = _("Contraseña actual")
    fields["new_password1"].label = _("Nueva contraseña")
    fields["new_password2"].label = _("Confirme la nueva contraseña")


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label_passwords(self)
        self.fields["new_password1"].widget.attrs["autofocus"] = True


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label_passwords(self)
