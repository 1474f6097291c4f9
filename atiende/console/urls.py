from django.urls import path

from atiende.console.views import home

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
]

# The phone lines (docs/console.md, "Llamadas")
from atiende.console.views import calls  # noqa: E402

urlpatterns += [
    path("llamadas/", calls.call_log, name="calls"),
    path("llamadas/en-vivo", calls.calls_live, name="calls_live"),
    path("llamadas/<int:call_id>/caso", calls.call_case, name="call_case"),
    path("llamadas/<int:call_id>/atendida", calls.call_done, name="call_done"),
]
