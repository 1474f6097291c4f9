from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from atiende.accounts import services
from atiende.accounts.models import ApiToken, SupportGroup, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "level", "is_active"]
    list_filter = ["role", "level", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        ("Rol", {"fields": ["role", "level", "contact", "is_active"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "role", "password1", "password2"]})
    ]
    filter_horizontal = []
    raw_id_fields = ["contact"]


@admin.register(SupportGroup)
class SupportGroupAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "email"]
    filter_horizontal = ["members"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__email", "name"]
    readonly_fields = ["user", "prefix", "digest", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False  # tokens are issued by `atiende create-user --api-token` (shown once)

    @admin.action(description="Revocar los tokens seleccionados")
    def revoke_tokens(self, request, queryset):
        revoked = 0
        for row in queryset.filter(revoked_at__isnull=True):
            services.revoke_token(token=row, actor=request.user)
            revoked += 1
        self.message_user(request, f"Tokens revocados: {revoked}.")
