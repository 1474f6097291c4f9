"""`atiende check` (Django's system checks): mailbox URLs that send credentials unencrypted.

The URLs live in environment variables the channels name; this reads the environment only
(no database), so it works before `migrate` too: any variable holding an `imap://` or
`smtp://` URL with a user, password or OAuth2 token is reported.
"""

from __future__ import annotations

import os

from django.core.checks import Warning

from atiende.channels.email import conf


def cleartext_mail_urls(app_configs=None, **kwargs) -> list[Warning]:
    out = []
    for name, value in sorted(os.environ.items()):
        if not value.strip().lower().startswith(("imap://", "smtp://")):
            continue
        try:
            url = conf.parse_url(value, kind=value.strip()[:4].lower())
        except Exception:  # a broken URL is reported where it is used
            continue
        if conf.cleartext_credentials(url):
            out.append(
                Warning(
                    f"{name}: {url.scheme}://{url.host}:{url.port} envía la clave (o el token) "
                    "sin cifrar.",
                    hint=f"Use {url.scheme}s:// o {url.scheme}+starttls://; sin TLS solo en una "
                    "red de confianza (docs/email.md).",
                    id="atiende.email.W001",
                )
            )
    return out
