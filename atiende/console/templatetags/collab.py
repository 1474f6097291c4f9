"""Template helpers of the collaboration parts: the stale-page token a case form carries."""

from django import template

from atiende.cases import versions

register = template.Library()


@register.filter
def case_version(case) -> str:
    """`<input type="hidden" name="version" value="{{ case|case_version }}">`"""
    return versions.version_of(case)
