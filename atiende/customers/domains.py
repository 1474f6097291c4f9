"""Free-mail domains: the list ships as data (`free_mail_domains.txt`), read once."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    text = files("atiende.customers").joinpath("free_mail_domains.txt").read_text("utf-8")
    lines = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def is_free_mail(domain: str) -> bool:
    """The domain or one of its parents is a free-mail domain (mx.gmail.com counts too)."""
    listed = free_mail_domains()
    parts = domain.lower().split(".")
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))
