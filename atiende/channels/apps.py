from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "atiende.channels"
    label = "channels"
    verbose_name = "Canales"

    def ready(self) -> None:
        from atiende.channels import kinds

        # A phone line's address is a phone number. TODO(#12): the phone adapter
        # (channels/phone/, its own branch) registers this from its conf.py instead.
        kinds.register("phone", kinds.KindRules(clean_address=kinds.phone_number))
