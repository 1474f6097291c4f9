from django.contrib import admin

from atiende.notifications.models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "text", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "case"]

    def has_add_permission(self, request):
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_kinds"]
    raw_id_fields = ["user"]
