"""Field types shared by the API's schemas.

Every string that reaches the database goes through `Text`: PostgreSQL refuses NUL
characters and neither backend stores lone surrogates, so both are a 422 here instead
of a 500 from the driver. Every id is bounded to a signed 64-bit integer for the same
reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db import models
from ninja import Schema
from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1
# Levels are small integers in the database; the configured ladder sets the real top.
MAX_LEVEL = 32767


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("No se admiten caracteres nulos.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("El texto contiene caracteres inválidos.") from None
    return value


Storable = AfterValidator(_storable)
Text = Annotated[str, Storable]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Slug = Annotated[str, Field(max_length=50), Storable]


def choice(choices: type[models.TextChoices]) -> Any:
    """A Literal of a Django choices' values, so the schema lists them as an enum."""
    return Literal[tuple(choices.values)]


class Input(Schema):
    """Request bodies: unknown fields are refused, so a typo is a 422, not a silent no-op."""

    model_config = {"extra": "forbid"}


class Page(Schema):
    """`limit`/`offset` pagination shared by every paginated list."""

    limit: int = Field(25, ge=1, le=100, description="Elementos por página (1–100).")
    offset: int = Field(0, ge=0, le=100_000, description="Elementos a saltar (0–100000).")
