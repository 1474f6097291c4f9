"""Hostile media: only the Cloud API's own media URLs are fetched, within the attachment
limit. Every refusal is an internal note the agents see, never a crash or a silent loss.

The configured Graph API peer runs on 127.0.0.1 and is allowed because the operator named
it; a media URL on another loopback port, a private or link-local address, or a host that
resolves to one is refused before any byte is sent to it."""

import pytest

from atiende.cases.models import Attachment, Note
from atiende.channels.whatsapp import graph as graph_api
from atiende.channels.whatsapp.tests.conftest import T0, fixture, run
from atiende.channels.whatsapp.tests.peer import GraphPeer
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("_frozen")

MEDIA = "2013859600285441"  # the document in fixtures/document.json
PDF = b"%PDF-1.4 factura"


def send_document(meta):
    body = fixture("document.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(T0.timestamp()))
    assert meta.post(body).status_code == 200
    run()


def refusal() -> str:
    """The internal note the agents get for a media that was not fetched."""
    note = Note.objects.get(visibility="internal", automatic=True)
    assert "factura.pdf" in note.body_text and "No se pudo descargar" in note.body_text
    assert not Attachment.objects.exists()
    job = Job.objects.get(kind="whatsapp.media")
    assert (job.status, job.attempts) == ("failed", 1)  # refused for good, not retried
    return note.body_text


@pytest.fixture
def other(graph):
    """Another server on loopback, with the same token and the same file: if atiende ever
    asked it for anything, its request log would say so."""
    peer = GraphPeer(token=graph.token).start()
    peer.media[MEDIA] = (PDF, "application/pdf")
    yield peer
    peer.stop()


def test_the_configured_graph_api_serves_media(meta, monitoreo, graph):
    graph.media[MEDIA] = (PDF, "application/pdf")
    send_document(meta)
    assert Attachment.objects.get().size == len(PDF)


def test_a_media_url_on_another_loopback_port_is_refused(meta, monitoreo, graph, other):
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.media_info[MEDIA] = {"url": f"{other.base}/cdn/{MEDIA}"}
    send_document(meta)
    assert "127.0.0.1" in refusal() and "no es un servidor de archivos" in refusal()
    assert other.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.7/cdn/x",
        "http://[::1]/cdn/x",
        "http://2130706433/cdn/x",  # 127.0.0.1 written as a number
        "https://lookaside.fbsbx.com.atacante.test/x",
        "http://lookaside.fbsbx.com/x",  # Meta's host, but not over HTTPS
        "file:///etc/passwd",
        "https://usuario:clave@lookaside.fbsbx.com/x",
    ],
)
def test_media_urls_off_metas_hosts_are_refused_before_connecting(meta, monitoreo, graph, url):
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.media_info[MEDIA] = {"url": url}
    send_document(meta)
    assert "no se descarga" in refusal() or "no es una URL" in refusal()


def test_an_allowed_media_host_that_is_a_private_address_is_refused(
    meta, monitoreo, graph, other, monkeypatch
):
    """Even a host the configuration allows is not fetched when it resolves to loopback:
    only the Graph API origin the operator configured is exempt."""
    port = other.server.server_address[1]
    monkeypatch.setenv("ATIENDE_WHATSAPP_MEDIA_HOSTS", f"http://localhost:{port}")
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.media_info[MEDIA] = {"url": f"http://localhost:{port}/v25.0/cdn/{MEDIA}"}
    send_document(meta)
    assert "dirección privada o local" in refusal()
    assert other.requests == []


@pytest.mark.parametrize("where", ["other", "metadata"])
def test_a_redirect_to_another_host_is_refused(meta, monitoreo, graph, other, where):
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.redirects[MEDIA] = (
        f"{other.base}/cdn/{MEDIA}" if where == "other" else "http://169.254.169.254/latest/"
    )
    send_document(meta)
    assert "no es un servidor de archivos" in refusal()
    assert other.requests == []


def test_a_redirect_within_the_graph_api_is_followed(meta, monitoreo, graph):
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.media["copia"] = (PDF, "application/pdf")
    graph.redirects[MEDIA] = f"{graph.base}/cdn/copia"
    send_document(meta)
    assert Attachment.objects.get().size == len(PDF)


def test_a_redirect_loop_is_refused(meta, monitoreo, graph):
    graph.media[MEDIA] = (PDF, "application/pdf")
    graph.redirects[MEDIA] = f"{graph.base}/cdn/{MEDIA}"
    send_document(meta)
    assert "redirige más de" in refusal()


def test_a_declared_size_over_the_limit_is_refused_without_fetching(
    meta, monitoreo, graph, settings
):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 1000
    graph.media[MEDIA] = (b"%PDF-1.4 " + b"x" * 2000, "application/pdf")
    send_document(meta)
    assert "supera el tamaño máximo" in refusal()
    assert graph.media_fetches() == []


@pytest.mark.parametrize("sized", [True, False])
def test_a_body_larger_than_declared_is_cut_off_at_the_limit(
    meta, monitoreo, graph, settings, sized
):
    """Meta says 10 bytes; the body is 64 MB, with or without a Content-Length: the
    download stops at the limit instead of reading it all."""
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 100_000
    body = b"%PDF-1.4 " + b"x" * (64 * 1024 * 1024)
    graph.media[MEDIA] = (body, "application/pdf")
    graph.media_info[MEDIA] = {"file_size": 10}
    if not sized:
        graph.unsized.add(MEDIA)
    send_document(meta)
    assert "supera el tamaño máximo de adjuntos" in refusal()
    [path] = graph.media_fetches()
    assert graph.written[path] < len(body) // 4  # what socket buffers took, not the file


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://LOOKASIDE.fbsbx.com./x", True),
        ("https://lookaside.fbsbx.com:8443/x", False),
        ("https://evil.test/x", False),
        ("ftp://lookaside.fbsbx.com/x", False),
        ("no es una url", False),
    ],
)
def test_which_media_urls_are_allowed(url, allowed, monkeypatch):
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", "https://graph.facebook.com/v25.0")

    def resolve(host, port, **kw):  # this machine has no DNS: Meta's CDN, as it resolves
        return [(2, 1, 6, "", ("157.240.0.1", port))]

    if allowed:
        assert graph_api.check_media_url(url, resolve=resolve) == (
            False,
            ("https", "lookaside.fbsbx.com", 443),
        )
    else:
        with pytest.raises(graph_api.MediaRefused):
            graph_api.check_media_url(url, resolve=resolve)


def test_a_replayed_signed_media_message_is_one_note_and_one_download(meta, monitoreo, graph):
    graph.media[MEDIA] = (PDF, "application/pdf")
    send_document(meta)
    send_document(meta)  # the same signed body again (a redelivery or a replay in the window)
    assert Note.objects.filter(direction="inbound").count() == 1
    assert Attachment.objects.count() == 1 and len(graph.media_fetches()) == 1


def test_the_address_actually_connected_to_is_checked_too(graph):
    """A name that resolved to a public address for the check but connects to a private
    one (DNS rebinding) is caught on the connection itself: here, a real connection to the
    loopback peer, judged as if it were a media host."""
    with (
        graph_api.client().stream("GET", f"{graph.base}/cdn/x") as resp,
        pytest.raises(graph_api.MediaRefused, match="dirección privada o local"),
    ):
        graph_api._check_peer(resp, "cdn.example")
