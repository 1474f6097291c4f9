import threading

import pytest
from django.db import connection

from atiende.escalations import services
from atiende.escalations.models import EscalationRequest
from atiende.escalations.services import EscalationRefused
from atiende.escalations.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_requests_leave_one_pending_and_refuse_the_others(incident, ladder, agent):
    threads = 6
    start = threading.Barrier(threads)
    created: list[int] = []
    refused: list[EscalationRefused] = []
    errors: list[BaseException] = []

    def ask():
        try:
            start.wait()
            created.append(
                services.request_escalation(case=incident, actor=agent, reason="a la vez").pk
            )
        except EscalationRefused as exc:
            refused.append(exc)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    assert len(created) == 1
    assert len(refused) == threads - 1
    assert {exc.code for exc in refused} == {"already_pending"}
    assert {exc.extra["pending_id"] for exc in refused} == set(created)
    assert list(EscalationRequest.objects.values_list("pk", "status")) == [(created[0], "pending")]
