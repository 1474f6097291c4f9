"""Inline images: after a message's attachments are stored, its HTML points at them.

`inbound.parse` keeps `cid:` sources (it cannot know where the parts will be stored);
`link_stored_images` runs after `receive_message` has stored a group of mails, finds the
stored attachment of each Content-ID by its SHA-256 and rewrites the note's HTML with
`inbound.link_inline_images`.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from django.urls import get_script_prefix

from atiende.cases.models import Attachment, Note
from atiende.channels.email import inbound


def download_url(number: str, attachment_id: int) -> str:
    """The API's download URL of an attachment (`api-v1:download_attachment`), spelled out:
    reverse() would load the URLconf, and the API and the admin with it, in the email
    poller and the MTA pipe (issue 17). A test keeps it equal to what reverse() gives."""
    return (
        f"{get_script_prefix()}api/v1/cases/{quote(number, safe='')}"
        f"/attachments/{attachment_id}/download"
    )


def link_stored_images(stored: list[tuple[Note, inbound.ParsedEmail]]) -> None:
    """Rewrite the HTML of these just-stored notes: one query for all their images."""
    stored = [(n, p) for n, p in stored if n.body_html and "cid:" in n.body_html.lower()]
    if not stored:
        return
    wanted = {
        note.pk: {cid: hashlib.sha256(a.content).hexdigest() for cid, a in p.content_ids.items()}
        for note, p in stored
    }
    ids = {
        (note_id, sha): pk
        for note_id, sha, pk in Attachment.objects.filter(
            note__in=list(wanted), sha256__in={sha for w in wanted.values() for sha in w.values()}
        ).values_list("note_id", "sha256", "pk")
    }
    for note, _ in stored:
        urls = {
            cid: download_url(note.case.number, ids[note.pk, sha])
            for cid, sha in wanted[note.pk].items()
            if (note.pk, sha) in ids
        }
        body_html = inbound.link_inline_images(note.body_html, urls)
        if body_html != note.body_html:
            Note.objects.filter(pk=note.pk).update(body_html=body_html)
            note.body_html = body_html
