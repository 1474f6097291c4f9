from django.apps import AppConfig


class WhatsappChannelConfig(AppConfig):
    name = "atiende.channels.whatsapp"
    label = "channels_whatsapp"
    verbose_name = "Canal: WhatsApp"
