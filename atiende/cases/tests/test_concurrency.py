import threading

import pytest
from django.db import connection

from atiende.cases import services
from atiende.cases.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_creation_gives_distinct_consecutive_numbers(portal, agent, acme):
    threads, per_thread = 8, 50
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def create_many():
        try:
            start.wait()
            for i in range(per_thread):
                services.open_case(
                    actor=agent, channel=portal, subject=f"caso {i}", organization=acme
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=create_many) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert numbers == [f"CS{n:07d}" for n in range(1, threads * per_thread + 1)]
