from django.contrib import admin, messages

from atiende.worker import queue
from atiende.worker.models import Job, JobStatus, PeriodicTask


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "run_at", "locked_by", "short_error"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry"]
    show_full_result_count = False

    @admin.display(description="último error")
    def short_error(self, job):
        lines = (job.last_error or "").strip().splitlines()
        return lines[-1][:120] if lines else ""

    @admin.action(description="Reintentar los trabajos fallidos seleccionados")
    def retry(self, request, queryset):
        jobs = list(queryset.filter(status=JobStatus.FAILED))
        for job in jobs:
            queue.retry(job)
        messages.info(request, f"{len(jobs)} trabajos vuelven a la cola.")

    def has_add_permission(self, request):
        return False


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "interval_seconds",
        "next_run_at",
        "last_finished_at",
        "runs",
        "locked_by",
    ]
    readonly_fields = [f.name for f in PeriodicTask._meta.fields]
