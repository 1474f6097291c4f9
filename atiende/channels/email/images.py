"""Inline images: after a message's attachments are stored, its HTML points at them.

`inbound.parse` keeps `cid:` sources (it cannot know where the parts will be stored);
`link_stored_images` runs right after `receive_message`, finds the stored attachment of
each Content-ID by its SHA-256 and rewrites the note's HTML with `inbound.link_inline_images`.
"""

from __future__ import annotations

import hashlib

from django.urls import reverse

from atiende.cases.models import Attachment, Note
from atiende.channels.email import inbound


def link_stored_images(note: Note, parsed: inbound.ParsedEmail) -> None:
    if not note.body_html or "cid:" not in note.body_html.lower():
        return
    wanted = {
        cid: hashlib.sha256(att.content).hexdigest() for cid, att in parsed.content_ids.items()
    }
    stored = dict(
        Attachment.objects.filter(note=note, sha256__in=set(wanted.values())).values_list(
            "sha256", "pk"
        )
    )
    number = note.case.number
    urls = {
        cid: reverse(
            "api-v1:download_attachment", kwargs={"number": number, "attachment_id": stored[sha]}
        )
        for cid, sha in wanted.items()
        if sha in stored
    }
    body_html = inbound.link_inline_images(note.body_html, urls)
    if body_html != note.body_html:
        Note.objects.filter(pk=note.pk).update(body_html=body_html)
        note.body_html = body_html
