"""A case's attachments: upload (multipart field `file`), list, download.

Downloads are served by `cases.downloads.attachment_response` (always as attachments, with
`nosniff`; types a browser would render as a page are sent as application/octet-stream), the
same helper WhatsApp's signed media links use.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from atiende.accounts.models import User
from atiende.cases import downloads, selectors, services
from atiende.cases.models import Attachment, Case
from atiende.core.errors import InvalidInput, TooLarge

from .auth import caller
from .types import Id, Text

router = Router(tags=["casos"])

# Multipart framing around the file: a request this much over the limit cannot fit.
MULTIPART_SLACK = 64 * 1024
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    download_url: str


class AttachmentList(Schema):
    items: list[AttachmentOut]
    count: int


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "public": {
                            "type": "boolean",
                            "description": "Solo personal: false lo deja interno. Por defecto true.",
                        },
                    },
                }
            }
        },
    }
}


def attachment_out(case: Case, row: Attachment) -> dict[str, Any]:
    return {
        "id": row.pk,
        "filename": row.filename,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "download_url": reverse(
            "api-v1:download_attachment", kwargs={"number": case.number, "attachment_id": row.pk}
        ),
    }


@router.get("/cases/{number}/attachments", response=AttachmentList, summary="Adjuntos de un caso")
def list_attachments(request: HttpRequest, number: Text) -> dict[str, Any]:
    """Un cliente ve los adjuntos públicos (no los de notas internas)."""
    user = caller(request)
    case = selectors.case_for(user, number)
    items = [attachment_out(case, a) for a in selectors.visible_attachments(user, case)]
    return {"items": items, "count": len(items)}


def _public_flag(request: HttpRequest, user: User) -> bool:
    raw = request.POST.get("public")
    if raw is None:
        return True
    if user.is_customer:
        raise InvalidInput(
            "Datos inválidos.",
            errors={"public": "Solo el personal de la mesa de ayuda puede indicar este campo."},
        )
    value = raw.strip().lower()
    if value not in TRUE | FALSE:
        raise InvalidInput("Datos inválidos.", errors={"public": "Debe ser verdadero o falso."})
    return value in TRUE


@router.post(
    "/cases/{number}/attachments",
    response={201: AttachmentOut},
    openapi_extra=UPLOAD_BODY,
    summary="Subir un adjunto",
)
def upload_attachment(request: HttpRequest, number: Text) -> Status[dict[str, Any]]:
    """multipart/form-data con el archivo en el campo `file`. Más grande que el límite
    configurado: 413. Ejecutables y scripts: 422."""
    user = caller(request)
    case = selectors.case_for(user, number)
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES
    # Refuse what cannot fit before Django spools it to disk; the service checks the exact size.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + MULTIPART_SLACK:
        raise TooLarge(
            f"El archivo supera el tamaño máximo permitido ({limit // (1024 * 1024)} MB).",
            limit=limit,
        )
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput(
            "Datos inválidos.",
            errors={"file": "Envíe el archivo como multipart/form-data en el campo «file»."},
        )
    public = _public_flag(request, user)
    row = services.add_attachment(
        case=case, filename=upload.name or "", chunks=upload.chunks(), actor=user, public=public
    )
    return Status(201, attachment_out(case, row))


@router.get(
    "/cases/{number}/attachments/{attachment_id}/download",
    url_name="download_attachment",
    openapi_extra={
        "responses": {
            200: {  # the status ninja already declares (a "200" string key would repeat it)
                "description": "El archivo, siempre como descarga, con el tipo detectado al "
                "subirlo (HTML, SVG, XML y JavaScript como application/octet-stream).",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
    summary="Descargar un adjunto",
)
def download_attachment(request: HttpRequest, number: Text, attachment_id: Id) -> FileResponse:
    row = selectors.attachment_for(caller(request), number, attachment_id)
    return downloads.attachment_response(row)
