from django.contrib import admin

from atiende.channels.phone.models import AgentPhone, BlockedNumber, Call, CallEvent
from atiende.customers.phones import normalize


@admin.register(BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "channel", "reason", "created_at"]
    list_filter = ["channel"]
    search_fields = ["number", "reason"]

    def save_model(self, request, obj, form, change):
        # Stored as the webhook compares it: E.164, or «anonymous» for withheld numbers.
        number = normalize(obj.number)
        obj.number = "anonymous" if number.anonymous else (number.e164 or obj.number.strip())
        super().save_model(request, obj, form, change)


@admin.register(AgentPhone)
class AgentPhoneAdmin(admin.ModelAdmin):
    list_display = ["user", "extension", "phone"]
    search_fields = ["user__name", "user__email", "extension", "phone"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        obj.phone = normalize(obj.phone).e164 or "" if obj.phone else ""
        super().save_model(request, obj, form, change)


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    fields = ["event", "received_at", "payload"]
    readonly_fields = ["event", "received_at", "payload"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "channel",
        "direction",
        "from_raw",
        "to_raw",
        "state",
        "missed",
        "agent",
        "case",
    ]
    list_filter = ["channel", "direction", "state", "missed", "out_of_hours"]
    search_fields = ["call_id", "from_raw", "to_raw", "caller_e164"]
    inlines = [CallEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the PBX's events and the services write calls
