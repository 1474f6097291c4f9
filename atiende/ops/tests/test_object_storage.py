"""Attachments in an S3-compatible bucket (ATIENDE_S3_BUCKET), against a local S3 server
(moto in server mode, on a loopback port) started by the tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client

from atiende.cases import downloads, storage
from atiende.cases import services as cases
from atiende.cases.models import Attachment
from atiende.core import disk, durable

moto_server = pytest.importorskip("moto.server")
BUCKET = "atiende-adjuntos"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@pytest.fixture(scope="module")
def s3_server():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "prueba")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "prueba-secreta")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    if BUCKET not in existing:
        client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = settings.STORAGES | {
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "location": "attachments",
                "default_acl": None,
                "file_overwrite": True,
            },
        }
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])


@pytest.fixture
def acme_case(customer, portal):
    return cases.open_case(
        actor=customer, channel=portal, subject="Factura", type="incident", priority="high"
    )


def _upload(case, token, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return Client().post(
        f"/api/v1/cases/{case.number}/attachments",
        {"file": SimpleUploadedFile(name, content)},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_an_upload_lands_in_the_bucket_and_not_on_disk(bucket, acme_case, tokens, settings):
    response = _upload(acme_case, tokens["customer"], "factura.pdf", PDF)
    assert response.status_code == 201, response.content
    sha = hashlib.sha256(PDF).hexdigest()
    key = f"attachments/{sha[:2]}/{sha[2:4]}/{sha}"
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF
    assert not storage.path_for(sha).exists()
    leftovers = (
        list(settings.ATTACHMENTS_DIR.glob("**/*")) if settings.ATTACHMENTS_DIR.exists() else []
    )
    assert [p for p in leftovers if p.is_file()] == []  # no temporary file left behind
    # The same bytes again: one object, two attachment rows.
    assert _upload(acme_case, tokens["agent"], "copia.pdf", PDF).status_code == 201
    assert bucket.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
    assert Attachment.objects.filter(sha256=sha).count() == 2


def test_a_file_in_the_bucket_leaves_nothing_to_sync_on_local_disk(
    bucket, acme_case, settings, monkeypatch
):
    # The bucket answers the PUT once the object is durable: the commit syncs no local
    # file (the upload's temporary file is gone), and a local disk that cannot sync
    # anything does not stop it.
    def failing(path):
        raise OSError(5, "Input/output error", str(path))

    monkeypatch.setattr(disk, "fsync", failing)
    with transaction.atomic():
        row = cases.add_attachment(case=acme_case, filename="factura.pdf", chunks=[PDF])
        assert durable._ATTR not in connection.__dict__
    assert storage.read_bytes(row.sha256) == PDF
    assert not list(Path(settings.ATTACHMENTS_DIR).glob("??/??/*"))


def test_downloads_stream_through_atiendes_checks(bucket, acme_case, tokens):
    body = _upload(acme_case, tokens["customer"], "informe.pdf", PDF).json()
    url = body["download_url"]
    own = Client().get(url, headers={"Authorization": f"Bearer {tokens['customer']}"})
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    assert own["Content-Disposition"].startswith("attachment;")
    assert own["Content-Length"] == str(len(PDF))
    assert own["X-Content-Type-Options"] == "nosniff"
    # Another organization's customer: 404, as for files on disk.
    other = Client().get(url, headers={"Authorization": f"Bearer {tokens['other_customer']}"})
    assert other.status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code in (401, 404)


def test_a_missing_object_is_a_404_not_a_500(bucket, acme_case, tokens):
    body = _upload(acme_case, tokens["customer"], "x.pdf", PDF).json()
    sha = body["sha256"]
    bucket.delete_object(Bucket=BUCKET, Key=f"attachments/{sha[:2]}/{sha[2:4]}/{sha}")
    response = Client().get(
        body["download_url"], headers={"Authorization": f"Bearer {tokens['customer']}"}
    )
    assert response.status_code == 404
    with pytest.raises(Exception, match="no está disponible"):
        downloads.attachment_response(Attachment.objects.get(pk=body["id"]))


def test_refused_files_never_reach_the_bucket(bucket, acme_case, tokens):
    response = _upload(acme_case, tokens["customer"], "setup.exe", b"MZ\x90\x00")
    assert response.status_code == 422
    assert bucket.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_outbound_senders_read_the_bucket(bucket, acme_case, agent):
    stored = storage.store([PDF], "anexo.pdf")
    assert storage.exists(stored.sha256)
    assert storage.read_bytes(stored.sha256) == PDF


def test_an_unreachable_store_is_a_503_and_nothing_is_stored(bucket, acme_case, tokens, settings):
    from atiende.cases.models import Attachment
    from atiende.core.errors import DomainError

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    from botocore.config import Config

    options = settings.STORAGES["attachments"]["OPTIONS"] | {
        "endpoint_url": closed,
        "client_config": Config(connect_timeout=1, retries={"max_attempts": 1}),
    }
    settings.STORAGES = settings.STORAGES | {
        "attachments": {**settings.STORAGES["attachments"], "OPTIONS": options}
    }
    response = _upload(acme_case, tokens["customer"], "factura.pdf", PDF)
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert "no se guardó nada" in response.json()["detail"]
    assert not Attachment.objects.exists()
    with pytest.raises(DomainError):
        storage.read_bytes("ab" * 32)


@pytest.mark.django_db(transaction=True)
def test_a_backup_reads_the_bucket_and_a_restore_writes_it(bucket, customer, portal, tmp_path):
    import tarfile

    from atiende.ops import backup

    case = cases.open_case(
        actor=customer, channel=portal, subject="Copia", type="incident", priority="high"
    )
    rows = [
        cases.add_attachment(case=case, filename=f"a{i}.bin", chunks=[PDF + bytes([i])])
        for i in range(3)
    ]
    archive = tmp_path / "copia.tar"
    result = backup.backup(archive)
    assert result.attachments == 3
    with tarfile.open(archive) as tar:
        for row in rows:
            assert tar.extractfile(f"attachments/{row.sha256}").read() == storage.read_bytes(
                row.sha256
            )
    # Into an empty bucket: the same objects, byte for byte.
    for obj in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        bucket.delete_object(Bucket=BUCKET, Key=obj["Key"])
    with tarfile.open(archive) as tar:
        for row in rows:
            backup._restore_attachment(tar, f"attachments/{row.sha256}", row.sha256)
    for i, row in enumerate(rows):
        assert storage.read_bytes(row.sha256) == PDF + bytes([i])
