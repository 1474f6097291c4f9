from django.contrib import admin

from atiende.channels.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "kind", "address", "status", "case"]
    list_filter = ["status", "kind", "event"]
    search_fields = ["address", "case__number"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ["case"]

    def has_add_permission(self, request):
        return False
