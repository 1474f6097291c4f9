"""Every model change has its migration (a merge of two branches can leave one out)."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out, verbosity=1)
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}")
