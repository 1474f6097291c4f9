"""Admin: mailboxes (connected or not), the quarantine with its retry, the intake ledger."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from atiende.channels.email import conf, intake
from atiende.channels.email.models import (
    EmailChannel,
    MailboxState,
    QuarantinedEmail,
    ReceivedEmail,
)


def _describe(channel, kind: str) -> str:
    try:
        url = conf.url_for(channel, kind)
    except Exception as exc:
        return f"URL inválida: {exc}"
    if url is None:
        env = (channel.settings or {}).get(f"{kind}_url_env")
        return f"no conectado ({env} sin valor)" if env else "no conectado"
    who = f"{url.user}@" if url.user else ""
    folder = f"/{url.folder}" if kind == "imap" else ""
    notes = []
    if url.auth == "xoauth2":
        source = url.token_file or (f"${url.token_env}" if url.token_env else "sin token")
        notes.append(f"OAuth2, token de {source}")
    if url.ca_file and (url.ssl or url.starttls):
        notes.append(f"CA {url.ca_file}")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"{url.scheme}://{who}{url.host}:{url.port}{folder}{extra}"


@admin.register(EmailChannel)
class EmailChannelAdmin(admin.ModelAdmin):
    """Read-only view of the email channels: the channel itself is edited under Canales."""

    list_display = ["name", "address", "imap", "smtp", "last_poll", "last_error"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind="email")

    @admin.display(description="recepción (IMAP)")
    def imap(self, obj):
        return _describe(obj, "imap")

    @admin.display(description="envío (SMTP)")
    def smtp(self, obj):
        return _describe(obj, "smtp")

    def _state(self, obj):
        return MailboxState.objects.filter(channel=obj).order_by("-last_poll_at").first()

    @admin.display(description="última lectura")
    def last_poll(self, obj):
        state = self._state(obj)
        return state.last_poll_at if state else "—"

    @admin.display(description="último error")
    def last_error(self, obj):
        state = self._state(obj)
        return (state.last_error[:200] if state and state.last_error else "") or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedEmail)
class QuarantinedEmailAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "sender",
        "subject",
        "short_reason",
        "attempts",
        "resolved_at",
    ]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "channel"]
    search_fields = ["sender", "subject", "reason", "sha256"]
    readonly_fields = [
        "channel",
        "sender",
        "envelope_sender",
        "subject",
        "reason",
        "source",
        "size",
        "sha256",
        "attempts",
        "created_at",
        "resolved_at",
        "note",
        "download",
    ]
    exclude = ["raw"]
    actions = ["retry"]

    @admin.display(description="motivo")
    def short_reason(self, obj):
        return obj.reason[:120]

    @admin.display(description="mensaje original")
    def download(self, obj):
        url = reverse("admin:channels_email_quarantinedemail_eml", args=[obj.pk])
        return format_html('<a href="{}">descargar .eml ({} bytes)</a>', url, obj.size)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/eml/",
                self.admin_site.admin_view(self.eml),
                name="channels_email_quarantinedemail_eml",
            )
        ]
        return extra + super().get_urls()

    def eml(self, request, pk: int):
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        row = get_object_or_404(QuarantinedEmail, pk=pk)
        response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="cuarentena-{row.pk}.eml"'
        return response

    @admin.action(description="Reintentar el registro de los correos seleccionados")
    def retry(self, request, queryset):
        for row in queryset.filter(resolved_at__isnull=True):
            outcome = intake.retry_quarantined(row)
            if outcome.status == "quarantined":
                self.message_user(
                    request, f"#{row.pk} sigue en cuarentena: {outcome.detail}", messages.WARNING
                )
            else:
                where = f" en el caso {outcome.case_number}" if outcome.case_number else ""
                self.message_user(
                    request, f"#{row.pk} registrado ({outcome.status}){where}.", messages.SUCCESS
                )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReceivedEmail)
class ReceivedEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "external_id", "outcome", "note", "source"]
    list_filter = ["outcome", "channel"]
    search_fields = ["external_id", "message_id", "source"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
