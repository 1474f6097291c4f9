from django.contrib import admin

from atiende.console.canned.models import CannedAnswer


@admin.register(CannedAnswer)
class CannedAnswerAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "whatsapp_approved", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("active", "whatsapp_approved")
    search_fields = ("title", "slug", "body")
    prepopulated_fields = {"slug": ("title",)}
