"""Hostile uploads through the API, as a customer and as staff.

Names: path traversal, absolute paths, control characters, bidi overrides, zero-width
characters, very long and empty names. Content: SVG, HTML, XML, JavaScript, and a zip
bomb (we never expand archives). Sizes: over the limit, with nothing half-stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings as django_settings
from django.test import Client

from atiende.cases import storage
from atiende.cases.models import Attachment
from atiende.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PERSONAS = ["customer", "agent"]
BOUNDARY = "----atiende-hostil"


def multipart(filename: bytes | str, content: bytes, **fields: str) -> bytes:
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    if isinstance(filename, str):
        filename = filename.encode("utf-8")
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload(tokens, number: str, persona: str, filename, content: bytes):
    return Client().generic(
        "POST",
        f"/api/v1/cases/{number}/attachments",
        multipart(filename, content),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers={"Authorization": f"Bearer {tokens[persona]}"},
    )


def download(tokens, url: str, persona: str):
    response = Client().get(url, headers={"Authorization": f"Bearer {tokens[persona]}"})
    return response, b"".join(response.streaming_content) if response.streaming else b""


def stored_files() -> list[Path]:
    root = Path(django_settings.ATTACHMENTS_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_safe_name(name: str) -> None:
    assert name and len(name) <= 200
    assert "/" not in name and "\\" not in name and ".." not in name
    assert all(ch.isprintable() for ch in name), ascii(name)
    assert not name.startswith(".") and name == name.strip()


HOSTILE_NAMES = {
    "traversal": ("../../etc/passwd", "passwd"),
    "windows traversal": ("..\\..\\x.txt", "x.txt"),
    "absolute": ("/etc/passwd", "passwd"),
    "windows absolute": ("C:\\Windows\\win.ini", "win.ini"),
    "control characters": ("fac\x00tu\x07ra\x1b[31m.txt", "factura[31m.txt"),
    "zero-width": ("fac\u200btu\u200dra\ufeff.pdf", "factura.pdf"),
    "spaces and dots": (" . . ", "adjunto"),
    "unicode": ("Facturación nº 7 — ñandú.pdf", "Facturación nº 7 — ñandú.pdf"),
    "semicolons and equals": ("a;b=c;.txt", "a;b=c;.txt"),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("raw", "clean"), HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_hostile_names_are_cleaned_in_storage_and_in_the_download(
    api, acme_case, tokens, tmp_path, persona, raw, clean
):
    response = upload(tokens, acme_case.number, persona, raw, b"contenido")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == clean
    assert_safe_name(body["filename"])
    assert Attachment.objects.get().filename == clean
    # Stored by content hash under the attachments directory, nowhere else.
    files = stored_files()
    assert [f.name for f in files] == [hashlib.sha256(b"contenido").hexdigest()]
    assert not list(tmp_path.rglob("passwd")) and not list(tmp_path.rglob("win.ini"))

    got, data = download(tokens, body["download_url"], persona)
    assert got.status_code == 200 and data == b"contenido"
    disposition = got["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert all(ch.isascii() and ch.isprintable() for ch in fallback)
    encoded = re.search(r"filename\*=UTF-8''(\S+)$", disposition).group(1)
    assert re.fullmatch(r"[A-Za-z0-9%._~!*'()-]+", encoded)  # RFC 5987 attr-chars only
    assert unquote(encoded) == clean


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "raw",
    [
        "factura\u202efdp.exe",  # shows as «factuaexe.pdf»: right-to-left override
        "factura\u202efdp.exe\u202c",
        "recibo.e\u200bxe",  # a zero-width space inside the extension
        "recibo.exe.",  # Windows drops trailing dots…
        "recibo.exe .",  # …and spaces
        "recibo.exe\u00a0",
        "a" * 300 + ".exe",  # the extension must survive shortening to be checked
    ],
    ids=["rlo", "rlo-pdf", "zero-width", "trailing-dot", "trailing-space", "nbsp", "long"],
)
def test_disguised_executables_are_refused(api, acme_case, tokens, persona, raw):
    response = upload(tokens, acme_case.number, persona, raw, b"no importa")
    assert response.status_code == 422, response.content
    assert response.json()["errors"]["file"] == "tipo de archivo no permitido"
    assert "\u202e" not in response.json()["detail"]
    assert not Attachment.objects.exists() and stored_files() == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_very_long_name_is_shortened_keeping_its_extension(api, acme_case, tokens, persona):
    response = upload(tokens, acme_case.number, persona, "ñ" * 300 + ".pdf", b"%PDF-1.4\n")
    assert response.status_code == 201, response.content
    name = response.json()["filename"]
    assert len(name) <= 200 and name.endswith(".pdf") and name.startswith("ñ")
    # A part header over 1 KB (Django's parser stops there) is a clear 400, nothing stored.
    response = upload(tokens, acme_case.number, persona, "ñ" * 5000 + ".pdf", b"%PDF-1.4\n")
    assert response.status_code == 400
    assert response.json()["detail"] == "La petición no se pudo interpretar."
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("raw", ["", ".", "..", "../"])
def test_an_empty_file_name_is_422_in_spanish(api, acme_case, tokens, persona, raw):
    # Django's parser treats a part without a (usable) file name as a plain field: no file.
    response = upload(tokens, acme_case.number, persona, raw, b"contenido")
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["errors"]["file"]
    assert not Attachment.objects.exists() and stored_files() == []


def test_the_storage_layer_cleans_names_the_api_parser_lets_through():
    for raw, clean in HOSTILE_NAMES.values():
        assert storage.clean_filename(raw) == clean
    assert storage.clean_filename("") == storage.clean_filename("..") == "adjunto"
    # CR/LF (header injection), quotes and ':' are dropped.
    assert storage.clean_filename('a\r\nContent-Type: "x".txt') == "aContent-Type x.txt"


RENDERABLE = {
    "svg": ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "svg with xml prolog": (
        "logo.svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "html": ("pagina.html", b"<!doctype html><script>alert(document.cookie)</script>"),
    "html as png": ("foto.png", b"<html><body onload=alert(1)>"),
    "xhtml": ("x.xhtml", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>'),
    "xml": ("datos.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///">]><x/>'),
    "javascript in text": ("nota.txt", b"<script>fetch('/api/v1/cases')</script>"),
    "gif polyglot": ("imagen.gif", b"GIF89a<script>alert(1)</script>"),
}
SAFE_TYPES = {"application/octet-stream", "text/plain", "image/gif"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "content"), RENDERABLE.values(), ids=RENDERABLE.keys())
def test_markup_is_served_as_a_download_never_as_a_page(
    api, acme_case, tokens, persona, name, content
):
    response = upload(tokens, acme_case.number, persona, name, content)
    assert response.status_code == 201, response.content
    got, data = download(tokens, response.json()["download_url"], persona)
    assert got.status_code == 200 and data == content
    content_type = got["Content-Type"].split(";")[0]
    assert content_type in SAFE_TYPES, content_type
    assert got["Content-Disposition"].startswith("attachment;")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got["Content-Security-Policy"]


def test_a_javascript_file_is_refused(api, acme_case, tokens):
    response = upload(tokens, acme_case.number, "customer", "app.js", b"alert(1)")
    assert response.status_code == 422


def zip_bomb(members: int, member_size: int) -> bytes:
    """A zip whose members are `member_size` zero bytes each, all sharing one deflate
    stream compressed once (a hand-written archive: compressing gigabytes would be slow)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    deflated = b"".join(compressor.compress(chunk) for _ in range(member_size >> 20))
    deflated += compressor.flush()
    crc = 0
    for _ in range(member_size >> 20):
        crc = zlib.crc32(chunk, crc)
    local, central = [], []
    offset = 0
    for i in range(members):
        name = f"ceros-{i:02}.bin".encode()
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(deflated),
            member_size,
            len(name),
            0,
        )
        local.append(header + name + deflated)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(deflated),
                member_size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        offset += len(header) + len(name) + len(deflated)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, len(directory), offset, 0)
    return b"".join(local) + directory + end


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_zip_bomb_is_stored_as_sent_and_never_expanded(api, acme_case, tokens, persona):
    import zipfile
    from io import BytesIO

    bomb = zip_bomb(members=16, member_size=256 << 20)
    declared = sum(i.file_size for i in zipfile.ZipFile(BytesIO(bomb)).infolist())
    assert declared == 4 << 30 and len(bomb) < 5 << 20  # 4 GiB from a few megabytes
    response = upload(tokens, acme_case.number, persona, "respaldo.zip", bomb)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["size"], body["content_type"]) == (len(bomb), "application/zip")
    assert body["sha256"] == hashlib.sha256(bomb).hexdigest()
    # On disk: exactly the bytes sent, nothing unpacked next to them.
    files = stored_files()
    assert len(files) == 1 and files[0].read_bytes() == bomb
    got, data = download(tokens, body["download_url"], persona)
    assert data == bomb and got["Content-Type"] == "application/zip"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("over", [1, 50_000, 2_000_000], ids=["by-one-byte", "within", "far"])
def test_an_oversized_upload_is_413_with_nothing_stored(
    api, acme_case, tokens, settings, persona, over
):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = limit = 100_000
    audit_before = AuditEntry.objects.count()
    tmp_before = set(os.listdir(django_settings.FILE_UPLOAD_TEMP_DIR or "/tmp"))
    response = upload(tokens, acme_case.number, persona, "grande.pdf", b"%" * (limit + over))
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
    assert response.json()["detail"].startswith("El archivo supera el tamaño máximo")
    assert not Attachment.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    assert stored_files() == []  # no partial file, no leftover temporary file
    leftover = set(os.listdir(django_settings.FILE_UPLOAD_TEMP_DIR or "/tmp")) - tmp_before
    assert not [n for n in leftover if n.endswith(".upload")]
    # Exactly at the limit is accepted.
    ok = upload(tokens, acme_case.number, persona, "justo.pdf", b"%" * limit)
    assert ok.status_code == 201 and ok.json()["size"] == limit
