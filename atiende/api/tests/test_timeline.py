from atiende.cases import services as cases


def test_the_timeline_lists_notes_and_events_in_order(api, acme_case, agent):
    cases.add_note(case=acme_case, body_text="Trabajando", visibility="internal", actor=agent)
    cases.update_case(case=acme_case, actor=agent, assignee=agent)
    cases.change_status(case=acme_case, actor=agent, status="open")
    response = api.get(f"/cases/{acme_case.number}/timeline", as_="agent")
    assert response.status_code == 200
    items = response.json()["items"]
    kinds = [i["kind"] for i in items]
    assert kinds[0] == "case.created"
    assert kinds.index("case.assignee_changed") < kinds.index("case.status_changed")
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    status = next(i for i in items if i["kind"] == "case.status_changed")
    assert status["changes"]["status"] == ["new", "open"]
    note = next(i for i in items if i["kind"] == "note" and i["visibility"] == "internal")
    assert note["body"] == "Trabajando"
    assert "changes" not in note  # each item carries its own kind's keys


def test_customers_see_only_public_events_in_the_timeline(api, acme_case, agent):
    cases.add_note(
        case=acme_case, body_text="Solo para el equipo", visibility="internal", actor=agent
    )
    cases.update_case(case=acme_case, actor=agent, assignee=agent)
    cases.change_status(case=acme_case, actor=agent, status="open")
    kinds = [
        i["kind"]
        for i in api.get(f"/cases/{acme_case.number}/timeline", as_="customer").json()["items"]
    ]
    assert "case.status_changed" in kinds
    assert "case.assignee_changed" not in kinds
    body = api.get(f"/cases/{acme_case.number}/timeline", as_="customer").content.decode()
    assert "Solo para el equipo" not in body


def test_customers_do_not_see_internal_attachments_in_the_timeline(api, acme_case, agent):
    cases.add_attachment(
        case=acme_case, filename="volcado-interno.txt", chunks=[b"x"], actor=agent, public=False
    )
    body = api.get(f"/cases/{acme_case.number}/timeline", as_="customer").content.decode()
    assert "volcado-interno.txt" not in body
    assert (
        "volcado-interno.txt"
        in api.get(f"/cases/{acme_case.number}/timeline", as_="agent").content.decode()
    )
