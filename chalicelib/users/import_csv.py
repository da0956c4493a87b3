"""Reading an import's CSV from S3: the whole file once (checks, hash, header, row count), then chunks from
a byte offset with ranged GETs, each record with the offset where it ends (where the next chunk starts)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.users.import_rows import COLUMNS, canonical, is_blank

_BLOCK = 64 * 1024


class NotImportable(Exception):
    """The file cannot be imported at all (not UTF-8, not CSV, no email column): the import fails."""


@dataclass(frozen=True)
class Record:
    row: int  # as a spreadsheet numbers it: the header is row 1
    cells: list[str]
    end: int  # byte offset just after the record


@dataclass(frozen=True)
class Scan:
    sha256: str
    size: int
    columns: list[str]  # canonical name per position, "" for a column imports ignore
    ignored: list[str]
    header_end: int
    rows: int  # records that are not blank


class _Lines:
    """The body's lines (ends kept) as text, counting the bytes handed out (csv reads a record's lines and
    stops: after each record, `consumed` is exactly where it ends)."""

    def __init__(self, body: Any, digest: Any = None) -> None:
        self.body, self.digest, self.consumed = body, digest, 0

    def _raw(self) -> Iterator[bytes]:
        pending = b""
        for block in self.body.iter_chunks(_BLOCK):
            pending += block
            start = 0
            while (newline := pending.find(b"\n", start)) >= 0:
                yield pending[start:newline + 1]
                start = newline + 1
            pending = pending[start:]
        if pending:
            yield pending

    def __iter__(self) -> Iterator[str]:
        for raw in self._raw():
            if self.digest is not None:
                self.digest.update(raw)
                if b"\x00" in raw:  # csv itself accepts NULs since Python 3.11
                    raise NotImportable("The file is not a CSV file (it holds NUL bytes: a binary file?).")
            text = raw.decode("utf-8")  # a failure leaves `consumed` at the start of the line
            self.consumed += len(raw)
            yield text


def _columns(header: list[str]) -> tuple[list[str], list[str]]:
    if header and header[0].startswith("\ufeff"):  # a UTF-8 byte order mark (Excel's "CSV UTF-8")
        header = [header[0][1:], *header[1:]]
    columns = [canonical(cell) or "" for cell in header]
    seen = [c for c in columns if c]
    if "email" not in seen:
        shown = ", ".join(h.strip() for h in header)[:200]
        raise NotImportable(f"The file has no `email` column (its header: {shown}). Columns: {', '.join(COLUMNS)}; "
                            "the header row names them (case-insensitive).")
    twice = sorted({c for c in seen if seen.count(c) > 1})
    if twice:
        raise NotImportable(f"The file names these columns more than once: {', '.join(twice)}.")
    ignored = [h.strip() for h, c in zip(header, columns, strict=True) if not c and h.strip()]
    return columns, ignored


def scan(object_key: str) -> Scan:
    """Read the whole CSV once: UTF-8 (with or without BOM), CSV syntax, the header, the rows; its SHA-256."""
    body = aws.s3().get_object(Bucket=settings().bucket_name, Key=object_key)["Body"]
    lines = _Lines(body, hashlib.sha256())
    try:
        reader = csv.reader(lines)
        header = next(reader, None)
        header_end = lines.consumed
        if header is None:
            raise NotImportable("The file is empty.")
        columns, ignored = _columns(header)
        rows = sum(1 for record in reader if not is_blank(record))
    except UnicodeDecodeError as exc:
        raise NotImportable(f"The file is not UTF-8 text (byte {lines.consumed + exc.start}): export it as "
                            "CSV UTF-8.") from None
    except csv.Error as exc:
        raise NotImportable(f"The file is not a CSV file ({exc}).") from None
    finally:
        body.close()
    return Scan(lines.digest.hexdigest(), lines.consumed, columns, ignored, header_end, rows)


def read(object_key: str, offset: int, first_row: int, limit: int) -> list[Record]:
    """Up to `limit` records from byte `offset` (a ranged GET that stops reading when it has them)."""
    body = aws.s3().get_object(Bucket=settings().bucket_name, Key=object_key, Range=f"bytes={offset}-")["Body"]
    lines = _Lines(body)
    records: list[Record] = []
    try:
        for record in csv.reader(lines):
            records.append(Record(first_row + len(records), record, offset + lines.consumed))
            if len(records) >= limit:
                break
    finally:
        body.close()
    return records


def report_line(*values: Any) -> str:
    """One CSV line of the error report; a value a spreadsheet would run as a formula is quoted as text."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        ["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values])
    return out.getvalue()
