from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "atiende.sla"
    label = "sla"
    verbose_name = "Horarios y ANS"

    def ready(self) -> None:
        from django.conf import settings

        from atiende.sla import calendar, holiday_files

        # Each process reads the holidays the first one computed (holiday_files.py).
        calendar.keep_holidays_in(holiday_files.HolidayFiles(settings.DATA_DIR / "cache"))
