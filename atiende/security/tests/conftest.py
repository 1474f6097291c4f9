"""Fixtures of the hostile-input and fault suite: the API's personas and cases, and the
escalation ladder, reused from the apps' own test fixtures."""

from atiende.api.tests.conftest import (  # noqa: F401 (fixtures)
    ApiClient,
    acme_case,
    acme_contact,
    api,
    globex_case,
    globex_contact,
    make_case,
)
from atiende.escalations.tests.fixtures import *  # noqa: F403
