"""CSV and XLSX exports of a filtered transaction list, streamed.

- CSV: a generator that writes the header and then the rows as the database
  hands them over (:func:`scanpay.host.portal.transactions.iter_export`), in
  chunks of a few hundred rows: the first byte leaves at once, and memory
  stays flat whatever the number of rows. UTF-8 with a byte-order mark, so
  spreadsheet programs read the Chinese text right.
- XLSX: XlsxWriter in ``constant_memory`` mode (each row is flushed to disk as
  it is written) into a temporary file, which is then streamed in chunks and
  deleted.

A filter the merchant mistyped (a date that is not one, or out of range, an
amount that does not parse...) is refused with a 400 page naming the field
before the response starts: an export has no page to say "left out", and a
file of another set than the one asked for would be taken for the right one.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

from scanpay.host.portal.deps import PortalRefusal
from scanpay.host.portal.filters import TxnFilter
from scanpay.host.portal.rows import COLUMNS, csv_line, export_values
from scanpay.host.portal.transactions import iter_export
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.money import get_currency

__all__ = ["CHUNK_ROWS", "check_usable", "csv_stream", "file_chunks", "write_xlsx"]

#: Rows per chunk handed to the server.
CHUNK_ROWS = 500
_FILE_CHUNK = 64 * 1024


def check_usable(f: TxnFilter) -> None:
    """Refuse (400, naming the fields) a filter that left out something the merchant gave."""
    if f.problems:
        fields = ", ".join(f.problems)
        raise PortalRefusal(
            400,
            Text(
                f"筛选条件无法使用，未导出（{fields}）",
                f"Some filters could not be used, nothing was exported ({fields})",
            ),
        )


def csv_stream(ctx: HostContext, merchant_pk: int, f: TxnFilter) -> Iterator[bytes]:
    """The filtered set as CSV bytes, chunk by chunk. The filter is checked at the call
    (:func:`check_usable`), before a response can have started, not at the first chunk."""
    check_usable(f)
    return _csv_chunks(ctx, merchant_pk, f)


def _csv_chunks(ctx: HostContext, merchant_pk: int, f: TxnFilter) -> Iterator[bytes]:
    zone = ctx.settings.zone
    yield ("\ufeff" + csv_line([name for name, _ in COLUMNS])).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # the same quoting as csv_line
    for count, row in enumerate(iter_export(ctx, merchant_pk, f), start=1):
        writer.writerow(export_values(row, zone))
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def write_xlsx(ctx: HostContext, merchant_pk: int, f: TxnFilter, language: str) -> Path:
    """The filtered set as an XLSX file in a temporary directory (the caller deletes it);
    :func:`check_usable` first."""
    check_usable(f)
    handle, name = tempfile.mkstemp(prefix="scanpay-export-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        _fill_xlsx(ctx, merchant_pk, f, language, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _fill_xlsx(ctx: HostContext, merchant_pk: int, f: TxnFilter, language: str, path: Path) -> None:
    zone = ctx.settings.zone
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "in_memory": False}
    )
    try:
        sheet = workbook.add_worksheet("transactions")
        bold = workbook.add_format({"bold": True})
        money = {0: workbook.add_format({"num_format": "0"})}
        for col, (_, header) in enumerate(COLUMNS):
            sheet.write_string(0, col, header.get(language), bold)
        sheet.set_column(0, 1, 28)
        sheet.set_column(2, 3, 26)
        sheet.set_column(11, 12, 24)
        amount_cols = {i for i, (key, _) in enumerate(COLUMNS) if key in ("amount", "refunded")}
        for r, row in enumerate(iter_export(ctx, merchant_pk, f), start=1):
            exponent = get_currency(row.currency).exponent
            fmt = money.get(exponent)
            if fmt is None:
                fmt = money[exponent] = workbook.add_format({"num_format": "0." + "0" * exponent})
            texts = export_values(row, zone, guard=False)
            for col, text in enumerate(texts):
                if col in amount_cols:
                    minor = row.amount if COLUMNS[col][0] == "amount" else row.refunded
                    sheet.write_number(r, col, minor / 10**exponent, fmt)
                elif text:  # an empty cell is left out (constant memory writes rows once)
                    sheet.write_string(r, col, text)
    finally:
        workbook.close()


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is deleted when the stream ends (or is dropped)."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_FILE_CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)
