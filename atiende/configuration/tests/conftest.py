from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from atiende.configuration import loader

REFERENCE = Path(settings.DEFAULT_CONFIG)


@pytest.fixture
def reference_path() -> Path:
    return REFERENCE


@pytest.fixture
def loaded(db):
    """The reference configuration, loaded."""
    return loader.load(REFERENCE)
