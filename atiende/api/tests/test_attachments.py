import hashlib

from atiende.cases import services as cases
from atiende.cases import storage
from atiende.cases.models import Attachment

PDF = b"%PDF-1.4\n" + b"0" * 200


def test_upload_stores_the_file_and_describes_it(api, acme_case):
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "factura.pdf", PDF, as_="customer"
    )
    assert response.status_code == 201
    body = response.json()
    row = Attachment.objects.get()
    assert body == {
        "id": row.pk,
        "filename": "factura.pdf",
        "size": len(PDF),
        "content_type": "application/pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "download_url": f"/api/v1/cases/{acme_case.number}/attachments/{row.pk}/download",
    }
    assert storage.path_for(body["sha256"]).read_bytes() == PDF


def test_the_list_shows_the_cases_attachments(api, acme_case):
    api.upload(f"/cases/{acme_case.number}/attachments", "a.pdf", PDF, as_="agent")
    api.upload(f"/cases/{acme_case.number}/attachments", "b.txt", b"hola", as_="customer")
    body = api.get(f"/cases/{acme_case.number}/attachments", as_="customer").json()
    assert [a["filename"] for a in body["items"]] == ["a.pdf", "b.txt"]
    assert body["count"] == 2


def test_an_oversized_upload_is_413(api, acme_case, settings):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 100
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "grande.pdf", PDF, as_="customer"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["limit"] == 100
    assert response.json()["detail"].startswith("El archivo supera el tamaño máximo permitido")
    assert not Attachment.objects.exists()


def test_a_request_body_far_over_the_limit_is_refused_before_reading_it(api, acme_case, settings):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 100
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "enorme.bin", b"x" * 200_000, as_="agent"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_executables_are_refused_with_422(api, acme_case):
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "setup.exe", b"MZ\x90\x00", as_="customer"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"file": "tipo de archivo no permitido"}
    response = api.upload(
        f"/cases/{acme_case.number}/attachments",
        "foto.jpg",
        b"MZ\x90\x00 disfrazado",
        as_="customer",
    )
    assert response.status_code == 422


def test_an_upload_without_the_file_field_is_422(api, acme_case):
    response = api.client.post(
        f"/api/v1/cases/{acme_case.number}/attachments",
        {"otro": "x"},
        headers={"Authorization": f"Bearer {api.tokens['agent']}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "file": "Envíe el archivo como multipart/form-data en el campo «file»."
    }


def test_download_is_always_an_attachment_with_nosniff(api, acme_case):
    body = api.upload(
        f"/cases/{acme_case.number}/attachments", "informe año.pdf", PDF, as_="customer"
    ).json()
    response = api.get(body["download_url"].removeprefix("/api/v1"), as_="customer")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"informe a_o.pdf\"; filename*=UTF-8''informe%20a%C3%B1o.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_html_and_svg_are_downloaded_as_octet_stream(api, acme_case):
    for name, content in [
        ("pagina.html", b"<!doctype html><script>alert(1)</script>"),
        ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ]:
        body = api.upload(
            f"/cases/{acme_case.number}/attachments", name, content, as_="customer"
        ).json()
        assert body["content_type"] in ("text/html", "image/svg+xml")
        response = api.get(body["download_url"].removeprefix("/api/v1"), as_="customer")
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_customer_cannot_see_another_organizations_attachments(api, acme_case):
    row = cases.add_attachment(case=acme_case, filename="contrato.pdf", chunks=[PDF])
    number = acme_case.number
    assert api.get(f"/cases/{number}/attachments", as_="other_customer").status_code == 404
    response = api.get(f"/cases/{number}/attachments/{row.pk}/download", as_="other_customer")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert (
        api.upload(f"/cases/{number}/attachments", "x.txt", b"x", as_="other_customer").status_code
        == 404
    )


def test_an_attachment_id_of_another_case_is_404(api, acme_case, globex_case):
    row = cases.add_attachment(case=globex_case, filename="ajeno.pdf", chunks=[PDF])
    response = api.get(f"/cases/{acme_case.number}/attachments/{row.pk}/download", as_="agent")
    assert response.status_code == 404
    assert response.json()["detail"] == "No existe ese adjunto."


def test_customers_do_not_see_internal_attachments(api, acme_case, agent):
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "log.txt", b"interno", as_="agent", public="false"
    )
    assert response.status_code == 201
    row_id = response.json()["id"]
    assert api.get(f"/cases/{acme_case.number}/attachments", as_="customer").json() == {
        "items": [],
        "count": 0,
    }
    assert (
        api.get(
            f"/cases/{acme_case.number}/attachments/{row_id}/download", as_="customer"
        ).status_code
        == 404
    )
    assert (
        api.get(f"/cases/{acme_case.number}/attachments/{row_id}/download", as_="agent").status_code
        == 200
    )


def test_only_staff_choose_whether_an_attachment_is_public(api, acme_case):
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "a.txt", b"x", as_="customer", public="false"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "public": "Solo el personal de la mesa de ayuda puede indicar este campo."
    }
    response = api.upload(
        f"/cases/{acme_case.number}/attachments", "a.txt", b"x", as_="agent", public="quizás"
    )
    assert response.json()["errors"] == {"public": "Debe ser verdadero o falso."}


def test_a_missing_file_on_disk_is_404_not_500(api, acme_case):
    row = cases.add_attachment(case=acme_case, filename="perdido.pdf", chunks=[PDF])
    storage.path_for(row.sha256).unlink()
    response = api.get(f"/cases/{acme_case.number}/attachments/{row.pk}/download", as_="agent")
    assert response.status_code == 404
    assert response.json()["detail"] == "El archivo de ese adjunto no está disponible."


def test_a_non_numeric_attachment_id_is_422(api, acme_case):
    response = api.get(f"/cases/{acme_case.number}/attachments/uno/download", as_="agent")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["attachment_id"]
