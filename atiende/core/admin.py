from django.contrib import admin

from atiende.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "case"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_label", "case__number"]
    list_select_related = ["case"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
