"""Email configuration: what a channel's address and `settings:` may say (the rules the
configuration loader asks through `channels.kinds`), and the mailbox URLs: the channel
names environment variables, the variables hold the URLs.

    imap://user:pass@host:143/INBOX     imaps://...:993     imap+starttls://...:143
    smtp://host:25   smtps://user:pass@host:465   smtp+starttls://user:pass@host:587
    ?auth=xoauth2&token_env=NAME   (OAuth2 access token read from the variable NAME)
    ?auth=xoauth2&token_file=/path  (... or from a file, re-read on every connection)
    ?ca=/path/ca.pem                (trust this CA bundle instead of the system's)

User and password are percent-encoded; the IMAP path is the folder (default INBOX).
Certificates are always verified (host name included). A server with a private CA is
trusted through `?ca=` on its URL, or for every mailbox through ATIENDE_EMAIL_CA_FILE.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from atiende.channels import kinds
from atiende.core.errors import InvalidInput

log = logging.getLogger(__name__)

CA_FILE_ENV = "ATIENDE_EMAIL_CA_FILE"


def check_options(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of an email channel's settings: none of its own. Its options name
    environment variables (`imap_url_env`, `smtp_url_env`), which the loader checks for
    every kind; the URLs they hold are parsed when the mailbox is used (`url_for`) and by
    the system check (checks.py)."""
    return []


RULES = kinds.KindRules(clean_address=kinds.email_address, check_options=check_options)

_PORTS = {
    "imap": 143,
    "imaps": 993,
    "imap+starttls": 143,
    "smtp": 25,
    "smtps": 465,
    "smtp+starttls": 587,
}


@dataclass(frozen=True)
class MailURL:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str
    auth: str  # "password" | "xoauth2" | "none"
    token_env: str
    processed_folder: str
    ca_file: str = ""  # PEM bundle to trust instead of the system store ("" = system)
    token_file: str = ""  # a file a token helper keeps fresh; wins over token_env

    @property
    def ssl(self) -> bool:
        return self.scheme in ("imaps", "smtps")

    @property
    def starttls(self) -> bool:
        return self.scheme.endswith("+starttls")

    def ssl_context(self) -> SSLContext:
        """Verifying context (certificate chain and host name), with the custom CA if any."""
        if self.ca_file and not os.path.isfile(self.ca_file):
            raise InvalidInput(
                f"No existe el archivo de autoridades de certificación {self.ca_file}."
            )
        return ssl.create_default_context(cafile=self.ca_file or None)

    def token(self) -> str:
        """The OAuth2 access token, read at every connection: a long-running worker picks up
        a token that a helper rewrote in the file (a process's environment cannot change)."""
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as handle:
                    value = handle.read().strip()
            except OSError as exc:
                raise InvalidInput(
                    f"No se pudo leer el token OAuth2 de {self.token_file}: {exc.strerror}."
                ) from exc
            if not value:
                raise InvalidInput(f"El archivo {self.token_file} no tiene un token OAuth2.")
            return value
        value = os.environ.get(self.token_env, "").strip() if self.token_env else ""
        if not value:
            raise InvalidInput(
                f"La variable {self.token_env or '(token_env)'} no tiene un token OAuth2."
            )
        return value


def parse_url(url: str, *, kind: str) -> MailURL:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not scheme.startswith(kind) or scheme not in _PORTS:
        allowed = ", ".join(f"{s}://" for s in _PORTS if s.startswith(kind))
        raise InvalidInput(f"URL de {kind.upper()} inválida: use {allowed}.")
    if not parts.hostname:
        raise InvalidInput(f"La URL de {kind.upper()} no tiene servidor.")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    auth = query.get("auth", "").lower() or ("password" if parts.username else "none")
    if auth not in ("password", "xoauth2", "none"):
        raise InvalidInput(
            f"Autenticación desconocida {auth!r}: use xoauth2 o usuario y clave en la URL."
        )
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return MailURL(
        scheme=scheme,
        host=parts.hostname,
        port=parts.port or _PORTS[scheme],
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=folder,
        auth=auth,
        token_env=query.get("token_env", ""),
        token_file=query.get("token_file", ""),
        processed_folder=query.get("processed", "Procesados"),
        ca_file=query.get("ca", "") or os.environ.get(CA_FILE_ENV, "").strip(),
    )


def url_for(channel, kind: str) -> MailURL | None:
    """The channel's IMAP or SMTP URL, or None when it is not connected."""
    env = (channel.settings or {}).get(f"{kind}_url_env")
    value = os.environ.get(env, "") if env else ""
    return parse_url(value, kind=kind) if value.strip() else None


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, before base64 (the libraries encode it)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def cleartext_credentials(url: MailURL) -> bool:
    """A plain imap:// or smtp:// URL that logs in: the password (or OAuth2 token) crosses
    the network unencrypted."""
    return url.scheme in ("imap", "smtp") and (
        url.auth == "xoauth2" or (url.auth == "password" and bool(url.user or url.password))
    )


_warned: set[tuple[str, str, str, int]] = set()


def warn_if_cleartext(url: MailURL, *, who: str) -> bool:
    """Log a warning, once per process and server, when `who` (the poller of a channel, the
    sender) is about to send credentials in the clear. Returns whether it applies."""
    if not cleartext_credentials(url):
        return False
    key = (who, url.scheme, url.host, url.port)
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "%s: %s://%s:%d sends the %s unencrypted; use %ss:// or %s+starttls:// "
            "unless the network is trusted",
            who,
            url.scheme,
            url.host,
            url.port,
            "OAuth2 token" if url.auth == "xoauth2" else "password",
            url.scheme,
            url.scheme,
        )
    return True
