from django.contrib import admin

from atiende.customers.models import Contact, ContactEmail, ContactPhone, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "email_domains"]
    search_fields = ["slug", "name"]


class EmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 0


class PhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "whatsapp_id", "whatsapp_user_id"]
    list_filter = ["organization"]
    search_fields = ["name", "emails__address", "phones__number", "whatsapp_user_id"]
    inlines = [EmailInline, PhoneInline]
