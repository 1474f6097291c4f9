from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "atiende.directory"
    label = "directory"
    verbose_name = "Directorio de canales"
