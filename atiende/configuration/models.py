from django.db import models


class Setting(models.Model):
    """Site-wide values from the configuration file (case policy, classification, texts)."""

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField()

    class Meta:
        ordering = ["key"]
        verbose_name = "ajuste"
        verbose_name_plural = "ajustes"

    def __str__(self) -> str:
        return self.key
