from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "atiende.channels.email"
    label = "channels_email"
    verbose_name = "Canal: correo electrónico"
