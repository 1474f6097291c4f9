from django.apps import AppConfig


class WhatsappChannelConfig(AppConfig):
    name = "atiende.channels.whatsapp"
    label = "channels_whatsapp"
    verbose_name = "Canal: WhatsApp"

    def ready(self) -> None:
        from atiende.channels import kinds
        from atiende.channels.whatsapp import conf
        from atiende.worker import senders

        kinds.register("whatsapp", conf.RULES)
        # By path: httpx and the Graph client are imported when a delivery job first runs.
        senders.register("whatsapp", "atiende.channels.whatsapp.outbound.WhatsAppSender")
