from django.contrib import admin

from atiende.cases.models import Attachment, Case, Note


class ReadOnly(admin.ModelAdmin):
    """Cases change only through services (audited), so the admin shows them read-only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = [
        "number",
        "subject",
        "type",
        "priority",
        "status",
        "level",
        "channel",
        "organization",
        "created_at",
    ]
    list_filter = ["status", "type", "priority", "level", "channel"]
    search_fields = ["number", "subject"]
    list_select_related = ["channel", "organization"]
    show_full_result_count = False


@admin.register(Note)
class NoteAdmin(ReadOnly):
    list_display = ["case", "visibility", "direction", "channel", "delivery_status", "created_at"]
    list_filter = ["visibility", "direction", "delivery_status"]
    list_select_related = ["case", "channel"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly):
    list_display = ["case", "filename", "size", "content_type", "created_at"]
    list_select_related = ["case"]
