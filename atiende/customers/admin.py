from django import forms
from django.contrib import admin

from atiende.core.errors import DomainError, InvalidInput
from atiende.customers import services
from atiende.customers.models import Contact, ContactEmail, ContactPhone, Organization


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["slug", "name", "email_domains"]

    def clean_email_domains(self):
        # The same rules as the API and the loader (no free mail, no other organization's
        # domain), said as a form error.
        domains = self.cleaned_data.get("email_domains") or []
        if not isinstance(domains, list):
            raise forms.ValidationError('Escriba una lista JSON, p. ej. ["acme.com.co"].')
        try:
            return services.clean_domains(domains, organization=self.instance)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.errors.get("email_domains", exc.message)) from exc
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["slug", "name", "email_domains"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        # Through the services: validated again inside the transaction, and audited.
        data = form.cleaned_data
        if change:
            services.update_organization(
                organization=obj,
                name=data["name"],
                email_domains=data["email_domains"],
                actor=request.user,
            )
        else:
            saved = services.create_organization(
                slug=data["slug"],
                name=data["name"],
                email_domains=data["email_domains"],
                actor=request.user,
            )
            obj.pk, obj.created_at = saved.pk, saved.created_at


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
    actions = ["invite_to_portal"]

    @admin.action(description="Invitar al portal (enlace por correo para elegir contraseña)")
    def invite_to_portal(self, request, queryset):
        from atiende.accounts import invitations
        from atiende.core.errors import DomainError

        sent, failed = 0, []
        for contact in queryset:
            try:
                invitations.invite_contact(
                    contact=contact,
                    actor=request.user,
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                )
                sent += 1
            except DomainError as exc:
                reasons = " ".join(str(v) for v in (getattr(exc, "errors", None) or {}).values())
                failed.append(f"{contact}: {reasons or exc.message}")
        self.message_user(request, f"Invitaciones enviadas: {sent}.")
        if failed:
            self.message_user(request, "No invitados: " + "; ".join(failed), level="warning")
