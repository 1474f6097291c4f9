import pytest

from atiende.cases import services
from atiende.cases.models import Case
from atiende.core.tests.threads import at_once, raised

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_creation_gives_distinct_consecutive_numbers(portal, agent, acme):
    threads, per_thread = 8, 50

    def create_many():
        for i in range(per_thread):
            services.open_case(actor=agent, channel=portal, subject=f"caso {i}", organization=acme)

    assert raised(at_once([create_many] * threads)) == []
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert numbers == [f"CS{n:07d}" for n in range(1, threads * per_thread + 1)]
