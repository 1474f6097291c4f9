from django.urls import path

from atiende.console.views import queues, search

app_name = "console"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queues/counts", queues.counts, name="queue_counts"),
    path("queues/bulk", queues.bulk, name="queue_bulk"),
    path("search", search.search, name="search"),
]
