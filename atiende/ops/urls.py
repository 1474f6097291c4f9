from django.urls import path

from atiende.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="ops-healthz"),
    path("readyz", views.readyz, name="ops-readyz"),
    path("metrics", views.metrics, name="ops-metrics"),
]
