from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "atiende.channels.email"
    label = "channels_email"
    verbose_name = "Canal: correo electrónico"

    def ready(self) -> None:
        from django.core import checks

        from atiende.channels import kinds
        from atiende.channels.email import conf
        from atiende.channels.email.checks import cleartext_mail_urls
        from atiende.worker import senders

        checks.register(cleartext_mail_urls, "atiende")
        kinds.register("email", conf.RULES)
        senders.register("email", "atiende.channels.email.outbound.SmtpSender")  # on first use
