from django.apps import AppConfig


class PhoneChannelConfig(AppConfig):
    name = "atiende.channels.phone"
    label = "phone"
    verbose_name = "Canal: teléfono"

    def ready(self) -> None:
        from atiende.channels import kinds
        from atiende.channels.phone import conf

        kinds.register("phone", conf.RULES)
