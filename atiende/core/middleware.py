"""Request middleware: the chosen language, the trusted proxy, the security headers.

Spanish first: pages are in es-CO unless the person chose another language (the
language switcher sets Django's language cookie). The browser's Accept-Language is not
consulted, so a Spanish-speaking customer on an English browser still gets Spanish."""

import ipaddress
import secrets

from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class TrustedProxyMiddleware:
    """Believe a proxy's X-Forwarded-For and X-Forwarded-Proto only when the request comes
    from one of `settings.TRUSTED_PROXIES` (ATIENDE_TRUSTED_PROXIES: addresses or networks).

    From a trusted proxy, the client's address replaces REMOTE_ADDR — the right-most address
    of X-Forwarded-For that is not itself a trusted proxy, since each proxy appends the peer
    it saw and only the part our own proxies wrote can be believed — and the scheme the
    proxy received (its last X-Forwarded-Proto value: the proxy must set it, not append to
    it) becomes the request's scheme. From anyone else both headers are dropped, so no
    later code can be fooled by them. (Django's SECURE_PROXY_SSL_HEADER would believe the
    header from every client, so it is not used.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        forwarded_for = meta.pop("HTTP_X_FORWARDED_FOR", "")
        forwarded_proto = meta.pop("HTTP_X_FORWARDED_PROTO", "")
        networks = settings.TRUSTED_PROXIES
        peer = meta.get("REMOTE_ADDR", "")
        if networks and _in(peer, networks):
            client = peer
            for text in reversed(forwarded_for.split(",")):
                hop = _address(text)
                if hop is None:
                    break  # not an address: nothing left of it can be believed
                client = str(hop)
                if not _in(client, networks):
                    break
            meta["REMOTE_ADDR"] = client
            scheme = forwarded_proto.split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                meta["wsgi.url_scheme"] = scheme
        return self.get_response(request)


def _address(text: str):
    """An address from X-Forwarded-For, where some proxies write a port too
    (`198.51.100.7:4711`, `[2001:db8::1]:4711`)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in(text: str, networks) -> bool:
    address = _address(text)
    if address is None:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class Nonce:
    """A per-response CSP nonce, made only if a template uses it (`{{ request.csp_nonce }}`):
    the policy names a nonce only for the pages that really carry inline code."""

    def __init__(self) -> None:
        self.value = ""

    def __str__(self) -> str:
        if not self.value:
            self.value = secrets.token_urlsafe(18)
        return self.value


def content_security_policy(nonce: str = "") -> str:
    """Scripts and styles from our own static files only (no inline code, no other
    origins), images from us or data: URIs, no frames, forms posted to us only."""
    own = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {own}",
            f"style-src {own}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


DEFAULT_POLICY = content_security_policy()


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response. (Django's
    SecurityMiddleware sends nosniff, Referrer-Policy, COOP and HSTS; XFrameOptionsMiddleware
    sends X-Frame-Options.) A view that sets its own policy keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        nonce = request.csp_nonce = Nonce()
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = (
                content_security_policy(nonce.value) if nonce.value else DEFAULT_POLICY
            )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
