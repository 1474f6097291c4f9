from django.db import models


class ProbeRun(models.Model):
    """One run of an `ops.probe` job (bench/bench_multi.py): a job's id appears once per
    run, so a job run twice shows as a repeated `job_id`."""

    job_id = models.BigIntegerField(db_index=True)
    worker = models.CharField(max_length=100)

    class Meta:
        verbose_name = "ejecución de prueba"
        verbose_name_plural = "ejecuciones de prueba"

    def __str__(self) -> str:
        return f"job {self.job_id} en {self.worker}"
