"""A report as rows of named columns, shown in the admin and exported as CSV (streamed) or XLSX."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from openpyxl import Workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Report:
    name: str  # the file name's stem
    title: str
    columns: list[tuple[str, Any]]  # (key, label)
    rows: Iterable[dict[str, Any]]
    totals: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return force_str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(report: Report) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # Excel reads UTF-8 (Chinese) only with the byte-order mark
    yield writer.writerow([force_str(label) for _key, label in report.columns])
    for row in report.rows:
        yield writer.writerow([_text(row.get(key)) for key, _label in report.columns])
    if report.totals:
        yield writer.writerow([_text(report.totals.get(key)) for key, _label in report.columns])


def csv_response(report: Report) -> StreamingHttpResponse:
    """Streamed row by row: a long period never sits in memory."""
    response = StreamingHttpResponse(_csv_lines(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report.name}.csv"'
    return response


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)  # local time, as on the page
    return _text(value)


def xlsx_response(report: Report) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=report.name[:31])
    sheet.append([force_str(label) for _key, label in report.columns])
    for row in report.rows:
        sheet.append([_cell(row.get(key)) for key, _label in report.columns])
    if report.totals:
        sheet.append([_cell(report.totals.get(key)) for key, _label in report.columns])
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{report.name}.xlsx"'
    return response
