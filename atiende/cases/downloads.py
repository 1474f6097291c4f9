"""How an attachment's bytes are served, by every door that serves one (the API's download,
WhatsApp's signed media link): always `Content-Disposition: attachment` with `nosniff` and a
sandboxing CSP, and types a browser would render as a page (HTML, SVG, XML, scripts) sent as
application/octet-stream: an uploaded file must never run as the help desk's own origin."""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse

from atiende.cases import storage
from atiende.cases.models import Attachment
from atiende.core.errors import NotFound

RENDERABLE = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def attachment_response(row: Attachment) -> FileResponse:
    """The file of `row` as a download; NotFound when its bytes are missing from the store."""
    try:
        # Streamed through this process from disk or the bucket alike, so the checks made
        # before this call and the headers below apply to every store (no redirect).
        handle = storage.open_file(row.sha256)
    except FileNotFoundError:
        raise NotFound("El archivo de ese adjunto no está disponible.") from None
    content_type = row.content_type or "application/octet-stream"
    if content_type.split(";")[0].strip().lower() in RENDERABLE:
        content_type = "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Length"] = str(row.size)
    response["Content-Disposition"] = disposition(row.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def disposition(filename: str) -> str:
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
