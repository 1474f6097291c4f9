"""A report's table as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text; one that a spreadsheet would run as a formula gets a leading
    apostrophe, which spreadsheets show as text. Numbers stay numbers (a negative
    number is data, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(report: dict[str, Any], table: str) -> str:
    data = report["tables"][table]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    keys = [c["key"] for c in data["columns"]]
    writer.writerow([neutralise(c["label"]) for c in data["columns"]])
    for row in data["rows"]:
        writer.writerow([neutralise(row.get(k)) for k in keys])
    return out.getvalue()
