"""Pathological messages for the hostile suite, built as bytes by hand (the email library
would refuse to write most of them)."""

from __future__ import annotations

import base64

HEAD = (
    b"From: Pedro <pedro@acme.com.co>\r\nTo: mesadeayuda@certicamara.com\r\n"
    b"Date: Tue, 3 Mar 2026 10:00:00 -0500\r\nMIME-Version: 1.0\r\n"
)


def huge_headers(n: int = 20_000, line: int = 1_000_000) -> bytes:
    """A one-megabyte Subject, a header folded into thousands of lines, 20,000 headers."""
    many = b"".join(b"X-Relleno-%d: %s\r\n" % (i, b"v" * 40) for i in range(n))
    folded = b"X-Plegado: " + b"\r\n ".join(b"pieza%d" % i for i in range(5000)) + b"\r\n"
    return (
        HEAD
        + b"Subject: "
        + b"A" * line
        + b"\r\n"
        + folded
        + many
        + b"Message-ID: <cabeceras@acme.com.co>\r\nContent-Type: text/plain\r\n\r\nHola\r\n"
    )


def thousands_of_parts(n: int = 3000) -> bytes:
    parts = b"".join(
        b'--b\r\nContent-Type: text/plain; name="p%d.txt"\r\n'
        b'Content-Disposition: attachment; filename="p%d.txt"\r\n\r\nparte %d\r\n' % (i, i, i)
        for i in range(n)
    )
    return (
        HEAD
        + b"Subject: muchas partes\r\nMessage-ID: <partes@acme.com.co>\r\n"
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: text/plain\r\n\r\nVer adjuntos\r\n"
        + parts
        + b"--b--\r\n"
    )


def nested_rfc822(depth: int = 300) -> bytes:
    inner = b"From: x@acme.com.co\r\nSubject: fondo\r\n\r\nfondo\r\n"
    for i in range(depth):
        inner = (
            b"From: capa%d@acme.com.co\r\nSubject: capa %d\r\n"
            b"Content-Type: message/rfc822\r\n\r\n" % (i, i)
        ) + inner
    return (
        HEAD
        + b"Subject: anidado\r\nMessage-ID: <anidado@acme.com.co>\r\n"
        + inner.split(b"\r\n", 2)[2]
    )


def nested_multipart(depth: int = 500) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nhoja\r\n"
    for i in range(depth):
        b_ = b"n%d" % i
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + b_
            + b'"\r\n\r\n--'
            + b_
            + b"\r\n"
            + body
            + b"--"
            + b_
            + b"--\r\n"
        )
    return HEAD + b"Subject: multipartes anidadas\r\nMessage-ID: <multi@acme.com.co>\r\n" + body


def broken_boundaries() -> bytes:
    return (
        HEAD
        + b"Subject: =?utf-8?B?roto###?= =?x-desconocido?Q?=FF=FE?=\r\n"
        + b"Message-ID: <roto@acme.com.co>\r\n"
        + b'Content-Type: multipart/mixed; boundary="nunca"\r\n\r\n'
        + b"--otra\r\nContent-Type: text/plain; charset=utf-99\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n@@@no es base64@@@\r\n"
        + b"--nunca\r\nContent-Type: application/octet-stream; name*=utf-8''%FF%FE%00.exe\r\n"
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=0=\r\n"
        + b"--nunca\r\nContent-Type: multipart/alternative\r\n\r\nsin frontera\r\n"
    )


def fifty_megabytes() -> bytes:
    blob = base64.encodebytes(b"\x00\x01binario" * (50 * 1024 * 1024 // 9 // 4 * 3))
    return (
        HEAD
        + b"Subject: grande\r\nMessage-ID: <grande@acme.com.co>\r\n"
        + b'Content-Type: multipart/mixed; boundary="g"\r\n\r\n'
        + b"--g\r\nContent-Type: text/plain\r\n\r\nUn archivo grande\r\n"
        + b"--g\r\nContent-Type: application/octet-stream\r\n"
        + b'Content-Disposition: attachment; filename="grande.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + blob.replace(b"\n", b"\r\n")
        + b"--g--\r\n"
    )


PATHOLOGICAL = {
    "huge_headers": huge_headers,
    "thousands_of_parts": thousands_of_parts,
    "nested_rfc822": nested_rfc822,
    "nested_multipart": nested_multipart,
    "broken_boundaries": broken_boundaries,
}
