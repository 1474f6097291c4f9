"""The signed media link serves a file exactly as the API's download does: always as an
attachment, never as a page of atiende's origin (HTML, SVG...), with nosniff."""

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.whatsapp import media_links
from atiende.worker import queue

pytestmark = pytest.mark.usefixtures("_frozen")

HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "Cache-Control",
)


@pytest.fixture
def case(meta, monitoreo, graph, monkeypatch):
    monkeypatch.setenv("ATIENDE_PUBLIC_URL", "https://mesa.example.test")
    meta.text("Caído")
    queue.run_pending(500)
    return Case.objects.get()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pagina.html", b"<!doctype html><script>alert(document.cookie)</script>"),
        ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("datos.xml", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("informe.pdf", b"%PDF-1.4 informe"),
        ('raro"\r\nX-Inyectado: 1.txt', b"texto"),
    ],
)
def test_the_media_link_serves_a_file_as_the_api_does(case, agent, client, tokens, name, content):
    note = cases.add_note(case=case, actor=agent, body_text="Adjunto.")
    att = cases.add_attachment(case=case, note=note, filename=name, chunks=[content], actor=agent)
    link = client.get(media_links.link_for(att).removeprefix("https://mesa.example.test"))
    api = client.get(
        f"/api/v1/cases/{case.number}/attachments/{att.pk}/download",
        headers={"Authorization": f"Bearer {tokens['agent']}"},
    )
    assert link.status_code == api.status_code == 200
    assert b"".join(link.streaming_content) == content
    assert {h: link.get(h) for h in HEADERS} == {h: api.get(h) for h in HEADERS}
    assert link["Content-Disposition"].startswith("attachment;")
    assert link["X-Content-Type-Options"] == "nosniff"
    if name.endswith((".html", ".svg", ".xml")):
        assert link["Content-Type"] == "application/octet-stream"
