from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from atiende.accounts import models, services
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


@admin.register(models.PortalAccess)
class PortalAccessAdmin(admin.ModelAdmin):
    """Who is their organization's manager in the portal (sees all its cases)."""

    list_display = ["user", "manager"]
    list_filter = ["manager"]
    search_fields = ["user__email", "user__name"]
    raw_id_fields = ["user"]


@admin.register(models.PortalRegistration)
class PortalRegistrationAdmin(admin.ModelAdmin):
    """Per organization: self-registration in the portal (off unless set here)."""

    list_display = ["organization", "self_registration"]
    raw_id_fields = ["organization"]


@admin.register(models.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "invited_by", "self_registered", "created_at", "expires_at", "used_at"]
    search_fields = ["user__email"]
    readonly_fields = [f.name for f in models.Invitation._meta.fields]

    def has_add_permission(self, request):
        return False  # sent from a contact (action "Invitar al portal") or the API
