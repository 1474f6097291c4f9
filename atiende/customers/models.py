from django.db import models

from atiende.core.construction import quick_init


class Organization(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    email_domains = models.JSONField(
        default=list, blank=True, help_text="Dominios de correo de la organización."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = "organización"
        verbose_name_plural = "organizaciones"

    def __str__(self) -> str:
        return self.name


@quick_init
class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True)
    whatsapp_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    # The business-scoped user id (BSUID, e.g. "US.13491208655302741918") WhatsApp sends for
    # every user, and alone when the user hides their number behind a username: WhatsApp
    # contacts are keyed by it when known; `whatsapp_id` (the number) is an attribute.
    whatsapp_user_id = models.CharField(
        "WhatsApp BSUID", max_length=128, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "contacto"
        verbose_name_plural = "contactos"

    def __str__(self) -> str:
        return self.name or f"Contacto {self.pk}"


@quick_init
class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(unique=True)  # stored lower-cased

    class Meta:
        verbose_name = "correo de contacto"
        verbose_name_plural = "correos de contacto"

    def __str__(self) -> str:
        return self.address


@quick_init
class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, unique=True)  # E.164

    class Meta:
        verbose_name = "teléfono de contacto"
        verbose_name_plural = "teléfonos de contacto"

    def __str__(self) -> str:
        return self.number
