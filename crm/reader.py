"""Reading a delimited text file as a stream of (line number, cells).

Encodings are told apart on their own: a UTF-8 byte-order mark means UTF-8 with BOM, a
UTF-16 one UTF-16 (Excel's "Unicode text" export); otherwise the bytes around the first
non-ASCII byte decide between UTF-8 and CP949 (the superset of EUC-KR that Korean Excel
writes; Korean text in CP949 is practically never valid UTF-8). The delimiter is a tab if
the header line has more tabs than commas, else a comma.

Hostile or broken files fail fast with the line at fault, in bounded memory: a NUL byte
(a spreadsheet or a binary file), a line longer than MAX_LINE_BYTES, a header or rows of
more than MAX_COLUMNS cells. A line in the other of UTF-8 and CP949 than the file's is read
in its own encoding and reported (`Lines.notes`); bytes in neither are replaced and reported.
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
from typing import Any, BinaryIO

from crm.errors import ImportFailed

SCAN_CHUNK_BYTES = 1 << 20
READ_CHUNK_BYTES = 1 << 20
# Enough bytes after the first non-ASCII one to be sure (a few Korean words).
PROBE_BYTES = 4096
MAX_LINE_BYTES = 1 << 20  # a customer row is ~200 bytes
MAX_COLUMNS = 500
csv.field_size_limit(MAX_LINE_BYTES)
# (line, reason, value) of a line read in another encoding than the file's.
Note = tuple[int, str, str]


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
    text: Any  # held here: dropping it would close `raw`
    size_bytes: int
    lines: Lines | None = None  # UTF-8 / CP949 files: their notes

    @property
    def notes(self) -> list[Note]:
        return self.lines.notes if self.lines is not None else []

    @property
    def position(self) -> int:
        """Bytes consumed so far (read-ahead included), for progress."""
        return self.size_bytes if self.raw.closed else self.raw.tell()

    def close(self) -> None:
        self.text.close()
        self.raw.close()


def open_table(path: Path) -> TableFile:
    """Open `path`; the first line is the header (line 1), the rows follow with their
    physical line numbers (a quoted cell may span lines)."""
    encoding = detect_encoding(path)
    raw = path.open("rb")
    lines: Lines | None = None
    if encoding == "utf-16":
        # errors="replace": a stray undecodable byte costs one cell, not the whole import.
        source: Any = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    else:
        if encoding == "utf-8-sig":
            raw.read(len(codecs.BOM_UTF8))
        lines = Lines(raw, "cp949" if encoding == "cp949" else "utf-8")
        source = lines
    iterator = iter(source)
    try:
        first_line = next(iterator, "")
        delimiter = detect_delimiter(first_line)
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if len(header) > MAX_COLUMNS:
            raise ImportFailed(
                f"line 1: the header has {len(header):,} columns; at most {MAX_COLUMNS}")
    except BaseException:
        raw.close()
        raise
    if lines is not None:
        lines.delimiter = delimiter.encode()
    reader = csv.reader(iterator, delimiter=delimiter)
    # The csv reader counts lines from where it started: line 2 of the file.
    return TableFile(
        encoding=encoding, delimiter=delimiter, header=header,
        header_line=first_line.rstrip("\r\n"), rows=Rows(reader), raw=raw,
        text=source, size_bytes=path.stat().st_size, lines=lines,
    )  # fmt: skip


class Lines:
    """The text lines of a UTF-8 or CP949 file, read and decoded a block at a time (C-level
    work per block; Python per line only for a block that needs it). Raises ImportFailed
    with the line at fault for NUL bytes, overlong lines and too many columns."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self.raw = raw
        self.encoding = encoding
        self.other = "utf-8" if encoding == "cp949" else "cp949"
        self.delimiter = b","
        self.line = 0  # lines handed out so far
        self.notes: list[Note] = []

    def close(self) -> None:
        self.raw.close()

    def __iter__(self) -> Iterator[str]:
        carry = b""
        while True:
            chunk = self.raw.read(READ_CHUNK_BYTES)
            block = carry + chunk if carry else chunk
            if not chunk:
                if block:
                    yield from self._decode(block)
                return
            # Complete lines only; a final \r may be half of \r\n.
            cut = max(block.rfind(b"\n"), block.rfind(b"\r", 0, len(block) - 1))
            if cut < 0:
                if len(block) > MAX_LINE_BYTES:
                    self._too_long(self.line + 1)
                carry = block
                continue
            part, carry = block[: cut + 1], block[cut + 1 :]
            yield from self._decode(part)
            if len(carry) > MAX_LINE_BYTES:
                self._too_long(self.line + 1)

    def _too_long(self, line: int) -> None:
        raise ImportFailed(f"line {line} is longer than {MAX_LINE_BYTES // 1024} KiB: "
                           "is this a delimited text file?")  # fmt: skip

    def _decode(self, part: bytes) -> Iterator[str]:
        if b"\0" in part:
            at = part.index(b"\0")
            line = self.line + len(part[: at + 1].splitlines())  # the NUL's own line counts
            raise ImportFailed(
                f"line {line} holds a NUL byte: save the file as CSV "
                "(UTF-8 or CP949) text, not as a workbook or UTF-16 without a byte-order mark"
            )
        text = None
        if self.encoding == "utf-8" or part.isascii():
            try:
                text = part.decode(self.encoding)
            except UnicodeDecodeError:
                text = None
        if text is None:
            lines = [self._line(raw, self.line + i + 1)
                     for i, raw in enumerate(part.splitlines(keepends=True))]  # fmt: skip
        else:
            lines = io.StringIO(text, newline="").readlines()
        if part.count(self.delimiter) > MAX_COLUMNS * len(lines):
            self._too_wide(lines)
        self.line += len(lines)
        yield from lines

    def _line(self, raw: bytes, number: int) -> str:
        """One line of a block that did not decode whole (or of a CP949 file)."""
        if raw.isascii():
            return raw.decode("ascii")
        try:  # UTF-8 Korean is practically never valid CP949 text and vice versa
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if self.encoding != "utf-8":
                self.notes.append((number, f"line is UTF-8 in a {self.encoding.upper()} file: "
                                   "read as UTF-8", text.strip()[:80]))  # fmt: skip
            return text
        try:
            text = raw.decode("cp949")
        except UnicodeDecodeError:
            text = raw.decode(self.encoding, errors="replace")
            self.notes.append((number, "bytes that are neither UTF-8 nor CP949 replaced by \ufffd",
                               text.strip()[:80]))  # fmt: skip
            return text
        if self.encoding != "cp949":
            self.notes.append((number, "line is CP949 in a UTF-8 file: read as CP949",
                               text.strip()[:80]))  # fmt: skip
        return text

    def _too_wide(self, lines: list[str]) -> None:
        delimiter = self.delimiter.decode()
        for i, text in enumerate(lines):
            if text.count(delimiter) >= MAX_COLUMNS:
                raise ImportFailed(f"line {self.line + i + 1} has more than {MAX_COLUMNS} "
                                   "columns")  # fmt: skip


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
        try:
            got = list(islice(self._reader, max(size, 0)))
        except csv.Error as exc:  # e.g. a cell over the size limit
            raise ImportFailed(f"line {self._reader.line_num + 1}: {exc}") from None
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
