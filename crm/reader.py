"""Reading a delimited text file as a stream of (line number, cells).

Encodings are told apart on their own: a UTF-8 byte-order mark means UTF-8 with BOM;
otherwise the bytes around the first non-ASCII byte decide between UTF-8 and CP949 (the
superset of EUC-KR that Korean Excel writes; Korean text in CP949 is practically never valid
UTF-8). The delimiter is a tab if the header line has more tabs than commas, else a comma.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SCAN_CHUNK_BYTES = 1 << 20
# Enough bytes after the first non-ASCII one to be sure (a few Korean words).
PROBE_BYTES = 4096
csv.field_size_limit(1 << 24)


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-8' or 'cp949'."""
    with path.open("rb") as fh:
        head = fh.read(len(codecs.BOM_UTF8))
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        while True:
            offset = fh.tell()
            chunk = fh.read(SCAN_CHUNK_BYTES)
            if not chunk:
                return "utf-8"  # all ASCII: either reads it
            if chunk.isascii():
                continue
            first = next(i for i, byte in enumerate(chunk) if byte >= 0x80)
            fh.seek(offset + first)
            probe = fh.read(PROBE_BYTES)
            try:
                # final=False: a character cut at the end of the probe is not an error.
                codecs.getincrementaldecoder("utf-8")().decode(probe, final=False)
            except UnicodeDecodeError:
                return "cp949"
            return "utf-8"


def detect_delimiter(header_line: str) -> str:
    return "\t" if header_line.count("\t") > header_line.count(",") else ","


@dataclass(frozen=True, kw_only=True)
class TableFile:
    """An opened file: its header cells and a stream of data rows."""

    encoding: str
    delimiter: str
    header: list[str]
    header_line: str
    rows: Iterator[tuple[int, list[str]]]
    raw: BinaryIO
    text: io.TextIOWrapper  # held here: dropping it would close `raw`
    size_bytes: int

    @property
    def position(self) -> int:
        """Bytes consumed so far (read-ahead included), for progress."""
        return self.size_bytes if self.raw.closed else self.raw.tell()

    def close(self) -> None:
        self.text.close()


def open_table(path: Path) -> TableFile:
    """Open `path`; the first line is the header (line 1), the rows follow with their
    physical line numbers (a quoted cell may span lines)."""
    encoding = detect_encoding(path)
    raw = path.open("rb")
    # errors="replace": a stray undecodable byte costs one cell, not the whole import.
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    first_line = text.readline()
    delimiter = detect_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    reader = csv.reader(text, delimiter=delimiter)
    # The csv reader counts lines from where it started: line 2 of the file.
    return TableFile(
        encoding=encoding, delimiter=delimiter, header=header,
        header_line=first_line.rstrip("\r\n"), rows=_offset_rows(reader), raw=raw,
        text=text, size_bytes=path.stat().st_size,
    )  # fmt: skip


def _offset_rows(reader: _csv.Reader) -> Iterator[tuple[int, list[str]]]:
    last = 1
    for cells in reader:
        start = last + 1
        last = reader.line_num + 1
        yield start, cells
