"""The trusted-proxy middleware on its own: which addresses and schemes it believes."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory, override_settings

from atiende.core.middleware import TrustedProxyMiddleware

NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/24", "::1", "2001:db8:1::/48")]


def seen(peer: str, forwarded_for: str | None = None, proto: str | None = None):
    meta = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto is not None:
        meta["HTTP_X_FORWARDED_PROTO"] = proto
    request = RequestFactory().get("/", **meta)
    with override_settings(TRUSTED_PROXIES=NETWORKS):
        TrustedProxyMiddleware(lambda r: r)(request)
    return request.META["REMOTE_ADDR"], request.scheme, request.META


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "proto", "address", "scheme"),
    [
        # From a trusted proxy: believed.
        ("10.0.0.5", "198.51.100.7", "https", "198.51.100.7", "https"),
        ("::1", "2001:db8::7", "https", "2001:db8::7", "https"),
        ("::ffff:10.0.0.5", "198.51.100.7", "https", "198.51.100.7", "https"),
        # Several of our proxies: the first address from the right that is not ours.
        ("10.0.0.5", "203.0.113.1, 198.51.100.7, 10.0.0.9", "https", "198.51.100.7", "https"),
        ("2001:db8:1::2", "198.51.100.7, 2001:db8:1::3", "http", "198.51.100.7", "http"),
        # Ports written by some proxies.
        ("10.0.0.5", "198.51.100.7:4711", "https", "198.51.100.7", "https"),
        ("10.0.0.5", "[2001:db8::7]:4711", "https", "2001:db8::7", "https"),
        # Garbage right of the client: nothing left of it is believed.
        ("10.0.0.5", "198.51.100.7, unknown", "https", "10.0.0.5", "https"),
        ("10.0.0.5", "", "https", "10.0.0.5", "https"),
        # A proto that is neither http nor https, or appended to: the last value counts.
        ("10.0.0.5", "198.51.100.7", "gopher", "198.51.100.7", "http"),
        ("10.0.0.5", "198.51.100.7", "http, https", "198.51.100.7", "https"),
        # From anyone else: ignored.
        ("203.0.113.9", "198.51.100.7", "https", "203.0.113.9", "http"),
        ("10.0.1.5", "198.51.100.7", "https", "10.0.1.5", "http"),
    ],
)
def test_what_the_middleware_believes(peer, forwarded_for, proto, address, scheme):
    got_address, got_scheme, meta = seen(peer, forwarded_for, proto)
    assert (got_address, got_scheme) == (address, scheme)
    # No later code can read the raw headers.
    assert "HTTP_X_FORWARDED_FOR" not in meta and "HTTP_X_FORWARDED_PROTO" not in meta


def test_nobody_is_trusted_without_a_list():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_FORWARDED_PROTO="https"
    )
    with override_settings(TRUSTED_PROXIES=[]):
        TrustedProxyMiddleware(lambda r: r)(request)
    assert request.META["REMOTE_ADDR"] == "127.0.0.1" and request.scheme == "http"
