"""Reading a delimited text file as a stream of (line number, cells).

Encodings are told apart on their own: a UTF-8 byte-order mark means UTF-8 with BOM, a
UTF-16 one UTF-16 (Excel's "Unicode text" export); otherwise the bytes around the first
non-ASCII byte decide between UTF-8 and CP949 (the superset of EUC-KR that Korean Excel
writes; Korean text in CP949 is practically never valid UTF-8). The delimiter is a tab if
the header line has more tabs than commas, else a comma.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

SCAN_CHUNK_BYTES = 1 << 20
# Enough bytes after the first non-ASCII one to be sure (a few Korean words).
PROBE_BYTES = 4096
csv.field_size_limit(1 << 24)


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-16', 'utf-8' or 'cp949'."""
    with path.open("rb") as fh:
        head = fh.read(len(codecs.BOM_UTF8))
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"  # the codec reads the byte order from the BOM
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
    rows: Rows
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
        header_line=first_line.rstrip("\r\n"), rows=Rows(reader), raw=raw,
        text=text, size_bytes=path.stat().st_size,
    )  # fmt: skip


# A line ends with \r\n, \r or \n: what the text layer (newline="") splits lines on.
_BREAKS = re.compile(r"\r\n?|\n")


class Rows:
    """A file's data rows with the physical line each starts on (a quoted cell may span
    lines), read in chunks: a chunk of one-line rows costs no work per row."""

    def __init__(self, reader: _csv.Reader, first: tuple[int, list[str]] | None = None) -> None:
        self._reader = reader
        self._last = 1  # the line the previous row ended on (the header: line 1)
        self._first = first

    def with_first(self, first: tuple[int, list[str]]) -> Rows:
        """These rows, after `first` (line, cells) unless its cells are empty."""
        return Rows(self._reader, first if first[1] else None)

    def chunk(self, size: int) -> tuple[list[int], list[list[str]]]:
        """Up to `size` rows and their start lines; empty lists at the end of the file."""
        lines: list[int] = []
        rows: list[list[str]] = []
        if self._first is not None:
            lines.append(self._first[0])
            rows.append(self._first[1])
            self._first = None
            size -= 1
        start = self._last + 1
        got = list(islice(self._reader, max(size, 0)))
        self._last = self._reader.line_num + 1
        if self._last - start + 1 == len(got):
            lines.extend(range(start, self._last + 1))  # one line per row
        else:
            line = start  # each row starts after the line breaks inside the one before
            for cells in got:
                lines.append(line)
                line += 1 + sum(len(_BREAKS.findall(cell)) for cell in cells)
        rows.extend(got)
        return lines, rows

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            lines, rows = self.chunk(1000)
            if not rows:
                return
            yield from zip(lines, rows, strict=True)
