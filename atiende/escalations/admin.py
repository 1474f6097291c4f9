from django.contrib import admin

from atiende.escalations.models import EscalationRequest


@admin.register(EscalationRequest)
class EscalationRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are created and decided through the services (API, portal),
    which audit and notify; the admin is for looking."""

    list_display = [
        "id",
        "case",
        "from_level",
        "to_level",
        "via",
        "status",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "to_level", "via"]
    search_fields = ["case__number"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in EscalationRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
