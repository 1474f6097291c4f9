"""The email channel's real SMTP peer (aiosmtpd), for the password-reset mail."""

from atiende.channels.email.tests.conftest import (  # noqa: F401 - fixtures used here
    correo,
    smtp_sender,
    smtp_server,
)
