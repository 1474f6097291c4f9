from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Business seconds as hours and minutes ("2 h 05 min"); a dash when there is none."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


@register.filter
def get(row: dict, key: str):
    return row.get(key)
