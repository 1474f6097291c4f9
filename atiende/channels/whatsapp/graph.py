"""A small Graph API client (httpx): send, mark as read, upload and download media.

Errors come back as `GraphError` with Meta's code and whether a retry can help; the
sender turns them into permanent or temporary delivery errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from atiende.channels.whatsapp import conf

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_MEDIA_BYTES = 100 * 1024 * 1024

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


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {conf.access_token()}"}


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        err = resp.json().get("error") or {}
    except ValueError:
        err = {}
    raise GraphError(
        status=resp.status_code,
        code=int(err.get("code") or 0),
        message=str(err.get("message") or resp.reason_phrase or "error"),
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
    resp = _request("POST", f"{conf.graph_url()}/{phone_number_id}/messages", json=body)
    messages = resp.json().get("messages") or [{}]
    return str(messages[0].get("id", ""))


def mark_read(phone_number_id: str, message_id: str) -> None:
    _request(
        "POST",
        f"{conf.graph_url()}/{phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": message_id},
    )


def upload_media(phone_number_id: str, filename: str, content: bytes, mime_type: str) -> str:
    resp = _request(
        "POST",
        f"{conf.graph_url()}/{phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename, content, mime_type)},
    )
    return str(resp.json().get("id", ""))


def download_media(media_id: str, phone_number_id: str = "") -> tuple[bytes, str]:
    """Media id → short-lived URL → bytes (both with the bearer token)."""
    params = {"phone_number_id": phone_number_id} if phone_number_id else {}
    info = _request("GET", f"{conf.graph_url()}/{media_id}", params=params).json()
    url = info.get("url")
    if not url:
        raise GraphError(status=404, code=131052, message="La respuesta no trae la URL del archivo")
    if int(info.get("file_size") or 0) > MAX_MEDIA_BYTES:
        raise GraphError(status=413, code=131052, message="El archivo supera 100 MB")
    resp = _request("GET", url)
    return resp.content, str(info.get("mime_type") or resp.headers.get("content-type", ""))
