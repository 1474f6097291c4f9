from django.apps import AppConfig


class WhatsappChannelConfig(AppConfig):
    name = "atiende.channels.whatsapp"
    label = "channels_whatsapp"
    verbose_name = "Canal: WhatsApp"

    def ready(self) -> None:
        from atiende.channels import kinds
        from atiende.channels.whatsapp import conf
        from atiende.channels.whatsapp.outbound import WhatsAppSender
        from atiende.worker import senders

        kinds.register("whatsapp", conf.RULES)
        senders.register("whatsapp", WhatsAppSender())
