"""The Graph client's two paths: sends and read receipts on kept-alive connections, and
through httpx (which uses it) when a proxy is configured for the Graph API's address."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atiende.channels.whatsapp import graph as graph_api
from atiende.worker import queue

pytestmark = pytest.mark.usefixtures("_frozen")


def test_an_answer_and_the_read_receipts_share_one_connection(meta, monitoreo, graph, agent):
    from atiende.cases import services as cases
    from atiende.cases.models import Case

    first = meta.text("Caído", message_id="wamid.UNO")
    second = meta.text("Sigue caído", message_id="wamid.DOS")
    queue.run_pending(500)
    cases.add_note(case=Case.objects.get(), actor=agent, body_text="Ya estamos revisando.")
    queue.run_pending(50)
    assert graph.reads() == [first, second]
    assert len(graph.sends()) >= 1
    assert graph.connections == 1


@pytest.mark.parametrize("kept_alive", [True, False])
def test_the_switch_sends_the_calls_through_httpx_again(graph, monkeypatch, kept_alive):
    monkeypatch.setattr(graph_api.mechanisms, "GRAPH_KEEPALIVE", kept_alive)
    graph_api.mark_read("106", "wamid.X")
    [request] = graph.requests
    agent = request.headers.get("User-Agent", "")
    assert agent == "atiende" if kept_alive else agent.startswith("python-httpx/")


class _Proxy:
    """An HTTP proxy that answers every request itself, recording the target it was asked
    to forward to (a proxy's request line carries the whole URL)."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.targets.append(self.path)
                raw = json.dumps({"messages": [{"id": "wamid.PROXIED"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(monkeypatch):
    p = _Proxy()
    for name in graph_api._PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ATIENDE_WHATSAPP_ACCESS_TOKEN", "t")
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", "http://graph.invalid/v25.0")
    monkeypatch.setattr(graph_api, "_client", None)  # httpx reads the proxies when built
    yield p
    p.stop()


def test_with_a_proxy_configured_the_call_goes_through_it(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert graph_api.send("106", {"to": "573001234567", "type": "text"}) == "wamid.PROXIED"
    graph_api.mark_read("106", "wamid.X")
    assert proxy.targets == ["http://graph.invalid/v25.0/106/messages"] * 2


def test_an_address_the_proxy_rules_leave_out_is_called_directly(proxy, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", f"http://127.0.0.1:{port}/v25.0")
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert not graph_api._proxied(f"http://127.0.0.1:{port}/v25.0/106/messages")
    with pytest.raises(graph_api.GraphError, match="no disponible") as err:
        graph_api.mark_read("106", "wamid.X")
    assert err.value.temporary
    assert proxy.targets == []


def test_without_a_proxy_nothing_goes_through_httpx(proxy):
    assert not graph_api._proxied("http://graph.invalid/v25.0/106/messages")
    assert not graph_api._proxied("https://graph.facebook.com/v25.0/106/messages")
