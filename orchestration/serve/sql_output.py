"""How `rotation sql` prints a result: DuckDB's table, or csv, json or markdown made here from the rows.

The sealed reader cannot COPY to a file, and a result printed by Python is the same on every DuckDB
build. csv: a header row, an empty field for NULL. json: a list of objects, one per row (a repeated
column name gets a suffix), dates and times as ISO 8601 strings, NaN and infinity as null.
markdown: a pipe table, numeric columns right-aligned, NULL written out. The table view shows at
most TABLE_ROWS rows; the other formats print every row.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, time
from decimal import Decimal

import click
import duckdb

FORMATS = ("table", "csv", "json", "markdown")
TABLE_ROWS = 200
_NUMERIC_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL"}


def _json_value(value: object) -> object:
    """The value as json.dumps can write it."""
    if isinstance(value, (date, datetime, time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _text(value: object, null: str) -> str:
    """The value as one csv or markdown cell."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def to_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_text(v, "") for v in row] for row in rows)
    return out.getvalue()


def _unique(columns: list[str]) -> list[str]:
    """The column names as object keys: a repeated name gets a suffix (`a`, `a_2`), no value is lost."""
    keys: list[str] = []
    for name in columns:
        key, n = name, 1
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def to_json(columns: list[str], rows: list[tuple]) -> str:
    keys = _unique(columns)
    objects = [{k: _json_value(v) for k, v in zip(keys, row, strict=True)} for row in rows]
    return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"


def to_markdown(columns: list[str], types: list[str], rows: list[tuple]) -> str:
    from tabulate import tabulate

    def cell(value: object) -> str:
        return _text(value, "NULL").replace("|", "\\|").replace("\n", "<br>")

    align = ["right" if t.split("(")[0] in _NUMERIC_TYPES else "left" for t in types]
    table = tabulate([[cell(v) for v in row] for row in rows], headers=[cell(c) for c in columns],
                     tablefmt="pipe", colalign=align, disable_numparse=True)
    return table + "\n"


def render(relation: duckdb.DuckDBPyRelation, fmt: str) -> None:
    """Print the relation's rows in the format (one of FORMATS)."""
    if fmt == "table":
        relation.show(max_rows=TABLE_ROWS)
        return
    columns, types, rows = relation.columns, [str(t) for t in relation.types], relation.fetchall()
    if fmt == "csv":
        text = to_csv(columns, rows)
    elif fmt == "json":
        text = to_json(columns, rows)
    elif fmt == "markdown":
        text = to_markdown(columns, types, rows)
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    click.echo(text, nl=False)
