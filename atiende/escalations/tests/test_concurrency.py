import pytest

from atiende.core.tests.threads import at_once, raised
from atiende.escalations import services
from atiende.escalations.models import EscalationRequest
from atiende.escalations.services import EscalationRefused
from atiende.escalations.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_requests_leave_one_pending_and_refuse_the_others(incident, ladder, agent):
    threads = 6
    outcomes = at_once(
        [lambda: services.request_escalation(case=incident, actor=agent, reason="a la vez").pk]
        * threads
    )
    refused = [o for o in outcomes if isinstance(o, EscalationRefused)]
    created = [o for o in outcomes if not isinstance(o, BaseException)]
    assert [o for o in raised(outcomes) if o not in refused] == []
    assert len(created) == 1
    assert len(refused) == threads - 1
    assert {exc.code for exc in refused} == {"already_pending"}
    assert {exc.extra["pending_id"] for exc in refused} == set(created)
    assert list(EscalationRequest.objects.values_list("pk", "status")) == [(created[0], "pending")]
