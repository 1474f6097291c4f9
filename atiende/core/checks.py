"""atiende's own deployment checks (`atiende check --deploy`).

Django warns when HSTS lacks includeSubDomains or preload. Both bind every other host of
the domain, which only the operator can judge, and the documented rollout
(docs/production.md) turns them on last; so those two warnings are silenced in production
mode and this check says instead where the site stands in the rollout.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

YEAR = 365 * 24 * 3600


@checks.register(checks.Tags.security, deploy=True)
def hsts_rollout(app_configs=None, **kwargs):
    if not getattr(settings, "PRODUCTION", False):
        if getattr(settings, "PUBLIC_URL", "").startswith("http://"):
            return [
                checks.Warning(
                    "ATIENDE_PUBLIC_URL es http://: atiende no está en modo producción "
                    "(cookies seguras, HTTPS obligatorio, HSTS).",
                    hint="Use una URL https:// detrás de un proxy TLS (docs/production.md).",
                    id="atiende.W001",
                )
            ]
        return []
    seconds = settings.SECURE_HSTS_SECONDS
    if seconds < YEAR:
        return [
            checks.Info(
                f"HSTS por {seconds} s: primera etapa. Cuando HTTPS esté confirmado, suba "
                f"ATIENDE_HSTS_SECONDS a {YEAR} (un año; incluye subdominios).",
                id="atiende.I001",
            )
        ]
    if not settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        return [
            checks.Info(
                "HSTS por un año sin includeSubDomains (ATIENDE_HSTS_INCLUDE_SUBDOMAINS=0).",
                id="atiende.I002",
            )
        ]
    return []
