"""A throwaway Dovecot IMAP server for tests and the benchmark.

Its configuration, passwd file, mail and sockets live in one temporary directory; it
listens on a free loopback port and is stopped (by its own pid) when the test is done.
Nothing depends on a system-wide Dovecot.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "mesa"
PASSWORD = "clave imap/2026@x"  # a space, a slash and an at sign: the URL must percent-encode them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return shutil.which("dovecot") is not None or Path("/usr/sbin/dovecot").exists()


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen
    ssl_port: int | None = None  # implicit TLS (imaps), when started with certificates
    ca: Path | None = None  # the CA that signed the server certificate

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"imap://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/INBOX"

    def tls_url(self, scheme: str, *, ca: bool = True) -> str:
        """An `imaps://` (implicit TLS port) or `imap+starttls://` (plain port) URL."""
        from urllib.parse import quote

        port = self.ssl_port if scheme == "imaps" else self.port
        query = f"?ca={quote(str(self.ca))}" if ca and self.ca else ""
        return f"{scheme}://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/INBOX{query}"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self):
        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        c.login(USER, PASSWORD)
        return c

    def deliver(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """Put messages in a folder (IMAP APPEND), as a mail server's delivery would."""
        c = self.client()
        try:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for raw in messages:
                c.append(folder, raw)
        finally:
            c.logout()

    def count(self, folder: str = "INBOX") -> int:
        c = self.client()
        try:
            if not c.folder_exists(folder):
                return 0
            return c.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
        finally:
            c.logout()


def start(*, certificates=None, oauth2_introspection_url: str | None = None) -> Dovecot:
    """Start Dovecot. `certificates` (tests.tls.Certificates) turns on STARTTLS on the
    plain port and an implicit-TLS port; `oauth2_introspection_url` adds SASL XOAUTH2 and
    OAUTHBEARER, validated by POSTing the token to that URL (RFC 7662 introspection)."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="atiende-dovecot-"))
    os.chmod(root, 0o755)
    port = free_port()
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        # Dovecot drops privileges to these users; the package creates them.
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("nobody")
    else:
        internal = login = me.pw_name
        mail_user = me
    home = root / "home"
    home.mkdir()
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid) if os.getuid() == 0 else None
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    os.chmod(root / "passwd", 0o644)
    ssl_port = free_port() if certificates else None
    if certificates:
        tls = f"""
ssl = yes
ssl_cert = <{certificates.cert}
ssl_key = <{certificates.key}
ssl_min_protocol = TLSv1.2
"""
        imaps = f"address = 127.0.0.1\n    port = {ssl_port}\n    ssl = yes"
    else:
        tls, imaps = "ssl = no", "port = 0"
    mechanisms = "plain login"
    oauth2 = ""
    if oauth2_introspection_url:
        mechanisms += " xoauth2 oauthbearer"
        (root / "oauth2.conf.ext").write_text(
            f"introspection_url = {oauth2_introspection_url}\n"
            "introspection_mode = post\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        os.chmod(root / "oauth2.conf.ext", 0o644)
        oauth2 = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}"""
    (root / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{tls}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{home}/%u
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
{oauth2}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"dovecot exited: {err}\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith(b"* OK"):
                    return Dovecot(
                        root=root,
                        port=port,
                        process=proc,
                        ssl_port=ssl_port,
                        ca=certificates.ca if certificates else None,
                    )
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("dovecot did not start listening")
