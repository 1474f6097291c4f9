"""What every console page shows around its content (site name, classification label)."""

from __future__ import annotations


def console(request) -> dict:
    if not request.path.startswith("/console/"):
        return {}
    from atiende.configuration import selectors
    from atiende.core import site

    return {
        "organization": site.get("organization.name") or "atiende",
        "classification": selectors.classification_label(),
    }
