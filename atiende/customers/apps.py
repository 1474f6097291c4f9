from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "atiende.customers"
    label = "customers"
    verbose_name = "Clientes"
