"""Signed, expiring public links to a note's attachments, for sending media by link.

Meta downloads a linked file without credentials, so the link itself is the credential:
the attachment id and a prefix of its content hash, signed with the secret key and valid
for `MAX_AGE`. Only public attachments (the ones the customer may see) are served.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.core import signing

from atiende.cases.models import Attachment
from atiende.channels.whatsapp import conf

SALT = "atiende.whatsapp.media-link"
# Long enough for Meta to fetch the file while a send is retried with backoff.
MAX_AGE = dt.timedelta(days=2)


def link_for(att: Attachment) -> str:
    token = signing.dumps({"a": att.pk, "h": att.sha256[:16]}, salt=SALT, compress=False)
    return f"{conf.public_url()}/webhooks/whatsapp/media/{token}/{quote(att.filename)}"


def attachment_for(token: str) -> Attachment | None:
    """The public attachment a valid, unexpired token names; None for anything else."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("a"), int):
        return None
    att = Attachment.objects.filter(pk=data["a"], public=True).first()
    if att is None or not att.sha256.startswith(str(data.get("h") or "-")):
        return None
    return att
