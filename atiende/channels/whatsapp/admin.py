from django.contrib import admin

from atiende.channels.whatsapp import services
from atiende.channels.whatsapp.models import Conversation, HeldMessage, ProcessedMessage


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["wa_id", "user_id", "channel", "step", "last_inbound_at", "updated_at"]
    list_filter = ["channel"]
    search_fields = ["wa_id", "user_id"]
    readonly_fields = [
        "channel",
        "wa_id",
        "user_id",
        "last_inbound_at",
        "last_inbound_id",
        "step",
        "updated_at",
    ]
    actions = ["reset_flow"]

    @admin.action(description="Reiniciar el flujo guiado (el cliente vuelve al menú)")
    def reset_flow(self, request, queryset):
        for conv in queryset:
            services.flush_pending(conv)  # what it held reaches a case first
        queryset.update(step="idle", state={})


@admin.register(ProcessedMessage)
class ProcessedMessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "channel", "received_at"]
    list_filter = ["channel"]
    search_fields = ["message_id"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HeldMessage)
class HeldMessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "channel", "conversation", "sent_at", "received_at"]
    list_filter = ["channel"]
    search_fields = ["message_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
