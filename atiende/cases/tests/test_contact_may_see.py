"""The one tenant rule for a contact and a case (`cases.selectors.contact_may_see`)."""

import pytest

from atiende.cases.models import Case
from atiende.cases.selectors import contact_may_see
from atiende.customers.models import Contact

ACME, GLOBEX = 1, 2
ME, SOMEONE = 10, 11


@pytest.mark.parametrize(
    ("my_org", "case_org", "requester", "sees"),
    [
        (ACME, ACME, SOMEONE, True),  # a colleague's case
        (ACME, GLOBEX, SOMEONE, False),  # another organization's case
        (ACME, GLOBEX, ME, False),  # mine, filed under another organization: theirs now
        (ACME, None, ME, False),  # a contact of an organization sees its cases only
        (None, None, ME, True),  # no organization: my own cases
        (None, None, SOMEONE, False),
        (None, ACME, ME, True),  # my own case, even filed under an organization
        (None, ACME, SOMEONE, False),
    ],
)
def test_a_contact_sees_their_organizations_cases_or_without_one_their_own(
    my_org, case_org, requester, sees
):
    contact = Contact(pk=ME, organization_id=my_org)
    case = Case(organization_id=case_org, requester_id=requester)
    assert contact_may_see(contact, case) is sees
