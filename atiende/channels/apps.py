from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "atiende.channels"
    label = "channels"
    verbose_name = "Canales"
