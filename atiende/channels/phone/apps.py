from django.apps import AppConfig


class PhoneChannelConfig(AppConfig):
    name = "atiende.channels.phone"
    label = "phone"
    verbose_name = "Canal: teléfono"
