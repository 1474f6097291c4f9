"""A small Graph API client: send, mark as read, upload and download media.

Sends and read receipts — a JSON body in, a JSON answer out, one or two for every message a
worker handles — go over `core.keepalive`'s kept-alive connections (decision 0011, switch
`ATIENDE_GRAPH_KEEPALIVE`); media, and every call when a proxy is configured for the Graph
API's address, go through httpx.

Errors come back as `GraphError` with Meta's code and whether a retry can help; the
sender turns them into permanent or temporary delivery errors.

The media download fetches only the Cloud API's own media URLs: the URL a media id points
to (and every redirect) must be on the configured Graph API origin or one of the media
hosts (`conf.media_hosts()`, Meta's CDN by default), over HTTPS for the latter, and such a
host must not resolve to (or connect to) a private, loopback, link-local or otherwise
non-public address — the configured Graph API origin alone is exempt, because the operator
named it (tests run it on loopback). A file over the attachment limit is refused from its
declared size, its Content-Length, or while streaming. A refusal is a permanent
`MediaRefused`, which the media job turns into an internal note for the agents.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from atiende.channels.whatsapp import conf
from atiende.core import keepalive, mechanisms

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_REDIRECTS = 3

# Codes worth retrying: throughput and rate limits, pair rate limit, temporary outages.
TEMPORARY_CODES = frozenset(
    {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131056, 131057, 133004}
)
WINDOW_CLOSED = 131047


@dataclass
class GraphError(Exception):
    status: int
    code: int
    message: str
    details: str = ""
    fbtrace_id: str = ""

    def __str__(self) -> str:
        text = f"({self.code}) {self.message}"
        return text + (
            f": {self.details}" if self.details and self.details not in self.message else ""
        )

    @property
    def temporary(self) -> bool:
        return (
            self.status == 429
            or self.status >= 500
            or self.code in TEMPORARY_CODES
            or self.status == 0
        )


class MediaRefused(GraphError):
    """A media download atiende will not make or finish (a URL off Meta's hosts, a private
    address, a file over the limit): permanent, and said in Spanish for the agents."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(status=status, code=0, message=message)

    def __str__(self) -> str:
        return self.message


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {conf.access_token()}"}


def _raise_for(resp: httpx.Response | keepalive.Answer) -> None:
    status, reason = resp.status_code, resp.reason_phrase
    if status < 400:
        return
    try:
        found = resp.json()
        err = (found.get("error") if isinstance(found, dict) else None) or {}
    except ValueError:
        err = {}
    raise GraphError(
        status=status,
        code=int(err.get("code") or 0),
        message=str(err.get("message") or reason or "error"),
        details=str((err.get("error_data") or {}).get("details") or ""),
        fbtrace_id=str(err.get("fbtrace_id") or ""),
    )


_client: httpx.Client | None = None


def client() -> httpx.Client:
    """One pooled client per process (building one loads the CA bundle: ~0.1 s)."""
    global _client
    if _client is None:
        _client = httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    return _client


_pool: keepalive.Pool | None = None


def _post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body; the answer's JSON object (empty when it has none)."""
    resp: httpx.Response | keepalive.Answer
    if not mechanisms.GRAPH_KEEPALIVE or _proxied(url):
        resp = _request("POST", url, json=body)
    else:
        resp = _kept_alive_post(url, body)
    try:
        found = resp.json() if resp.content else {}
    except ValueError:
        found = {}
    return found if isinstance(found, dict) else {}


def _kept_alive_post(url: str, body: dict[str, Any]) -> keepalive.Answer:
    global _pool
    if _pool is None:
        _pool = keepalive.Pool(
            connect_timeout=TIMEOUT.connect or 5.0, read_timeout=TIMEOUT.read or 15.0
        )
    headers = _headers() | {
        "Content-Type": "application/json",
        "Accept": "*/*",
        "User-Agent": "atiende",
    }
    try:
        answer = _pool.request("POST", url, headers=headers, body=keepalive.json_body(body))
    except keepalive.Unavailable as exc:  # connection refused, timeout: try again later
        raise GraphError(status=0, code=0, message=f"Graph API no disponible: {exc}") from exc
    _raise_for(answer)
    if answer.status_code >= 300:  # the messages endpoint does not redirect
        raise GraphError(
            status=answer.status_code,
            code=0,
            message=f"Respuesta inesperada: {answer.status_code} {answer.reason_phrase}",
        )
    return answer


_PROXY_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
)


def _proxied(url: str) -> bool:
    """Is a proxy configured (in the environment, where httpx reads it) for this URL's
    address? Then the call goes through httpx, which uses it."""
    parts = urlsplit(url)
    return _proxied_for(
        parts.scheme, parts.hostname or "", tuple(os.environ.get(n) for n in _PROXY_VARIABLES)
    )


@functools.cache
def _proxied_for(scheme: str, host: str, _environment: tuple[str | None, ...]) -> bool:
    proxies = urllib.request.getproxies()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        resp = client().request(
            method, url, headers=_headers() | kwargs.pop("headers", {}), **kwargs
        )
    except httpx.HTTPError as exc:  # connection refused, timeout: try again later
        raise GraphError(
            status=0, code=0, message=f"Graph API no disponible: {exc.__class__.__name__}"
        ) from exc
    _raise_for(resp)
    return resp


def send(phone_number_id: str, payload: dict[str, Any]) -> str:
    """POST /{phone_number_id}/messages; returns the new message id (wamid)."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual"} | payload
    found = _post_json(f"{conf.graph_url()}/{phone_number_id}/messages", body)
    messages = found.get("messages") or [{}]
    return str(messages[0].get("id", ""))


def mark_read(phone_number_id: str, message_id: str) -> None:
    _post_json(
        f"{conf.graph_url()}/{phone_number_id}/messages",
        {"messaging_product": "whatsapp", "status": "read", "message_id": message_id},
    )


def upload_media(phone_number_id: str, filename: str, content: bytes, mime_type: str) -> str:
    resp = _request(
        "POST",
        f"{conf.graph_url()}/{phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename, content, mime_type)},
    )
    return str(resp.json().get("id", ""))


def download_media(
    media_id: str, phone_number_id: str = "", *, max_bytes: int | None = None
) -> tuple[bytes, str]:
    """Media id → short-lived URL → bytes (both with the bearer token), within the guards
    in this module's docstring; `max_bytes` defaults to the attachment limit."""
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES if max_bytes is None else max_bytes
    params = {"phone_number_id": phone_number_id} if phone_number_id else {}
    info = _request("GET", f"{conf.graph_url()}/{media_id}", params=params).json()
    url = info.get("url")
    if not url or not isinstance(url, str):
        raise GraphError(status=404, code=131052, message="La respuesta no trae la URL del archivo")
    try:
        declared = int(info.get("file_size") or 0)
    except (TypeError, ValueError):
        declared = 0
    if declared > limit:
        raise _too_large(limit, declared)
    content, mime = _fetch(url, limit)
    return content, str(info.get("mime_type") or mime)


# -- the media download's guards -----------------------------------------------------------


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.scheme, (url.host or "").lower().rstrip("."), port


def _media_origins() -> set[tuple[str, str, int]]:
    out = set()
    for entry in conf.media_hosts():
        url = httpx.URL(entry if "://" in entry else f"https://{entry}")
        out.add(_origin(url))
    return out


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_media_url(
    raw: str, *, resolve: Any = socket.getaddrinfo
) -> tuple[bool, tuple[str, str, int]]:
    """Refuse a media URL off the allowed origins (MediaRefused). Returns whether it is the
    configured Graph API's own origin (exempt from the address check) and its origin.
    `resolve` is `socket.getaddrinfo` (a test of the rule alone may pass its own)."""
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise MediaRefused("El enlace del archivo no es una URL válida.") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise MediaRefused("El enlace del archivo no es una URL http(s) válida.")
    if url.userinfo:
        raise MediaRefused("El enlace del archivo trae credenciales: no se descarga.")
    origin = _origin(url)
    if origin == _origin(httpx.URL(conf.graph_url())):
        return True, origin
    if origin not in _media_origins():
        raise MediaRefused(
            f"El enlace del archivo apunta a {origin[1]}, que no es un servidor de archivos "
            "de WhatsApp permitido: no se descarga."
        )
    try:
        found = resolve(origin[1], origin[2], type=socket.SOCK_STREAM)
    except OSError as exc:  # DNS down or name unknown right now: try again later
        raise GraphError(
            status=0, code=0, message=f"No se pudo resolver {origin[1]}: {exc}"
        ) from exc
    for *_, sockaddr in found:
        if not _public(str(sockaddr[0])):
            raise MediaRefused(
                f"El servidor de archivos {origin[1]} resuelve a una dirección privada o "
                f"local ({sockaddr[0]}): no se descarga."
            )
    return False, origin


def _check_peer(resp: httpx.Response, host: str) -> None:
    """The address actually connected to must be public too (a name that resolved to a
    public address for the check and to a private one for the connection)."""
    stream = resp.extensions.get("network_stream")
    addr = stream.get_extra_info("server_addr") if stream is not None else None
    if addr and not _public(str(addr[0])):
        raise MediaRefused(
            f"El servidor de archivos {host} está en una dirección privada o local "
            f"({addr[0]}): no se descarga."
        )


def _too_large(limit: int, size: int | None = None) -> MediaRefused:
    mb = limit / (1024 * 1024)
    got = f" ({size / (1024 * 1024):.1f} MB)" if size else ""
    return MediaRefused(
        f"El archivo{got} supera el tamaño máximo de adjuntos ({mb:g} MB).", status=413
    )


def _fetch(url: str, limit: int) -> tuple[bytes, str]:
    """GET the media URL without following redirects blindly: each hop is checked first,
    and the token goes only to the origin it was sent to first."""
    first_origin = None
    for _hop in range(MAX_REDIRECTS + 1):
        exempt, origin = check_media_url(url)
        first_origin = first_origin or origin
        headers = _headers() if origin == first_origin else {}
        try:
            with client().stream("GET", url, headers=headers, follow_redirects=False) as resp:
                if not exempt:
                    _check_peer(resp, origin[1])
                if resp.is_redirect:
                    url = str(resp.url.join(resp.headers.get("location", "")))
                    continue
                if resp.status_code >= 400:
                    resp.read()
                    _raise_for(resp)
                try:
                    length = int(resp.headers.get("content-length") or 0)
                except ValueError:
                    length = 0
                if length > limit:
                    raise _too_large(limit, length)
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    chunks.append(chunk)
                return b"".join(chunks), resp.headers.get("content-type", "")
        except httpx.HTTPError as exc:  # connection refused, timeout: try again later
            raise GraphError(
                status=0, code=0, message=f"Graph API no disponible: {exc.__class__.__name__}"
            ) from exc
    raise MediaRefused(f"El enlace del archivo redirige más de {MAX_REDIRECTS} veces.")
