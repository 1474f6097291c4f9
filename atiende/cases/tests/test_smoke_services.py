from atiende.cases import services


def test_opening_a_case_gives_it_the_first_number(portal, customer):
    case = services.open_case(actor=customer, channel=portal, subject="No puedo firmar", type="incident", priority="high")
    assert case.number == "CS0000001"
    assert case.organization.slug == "acme"
