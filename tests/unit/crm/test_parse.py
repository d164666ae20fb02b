"""Reading customer and do-not-call files into batches (no database)."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.errors import ImportFailed
from crm.parse import Batch, ImportKind, batches, open_import
from crm.phones import normalize

HEADER = "고객번호,이름,휴대폰번호,생년월일,성별,마케팅수신동의,주소"
ROWS = [
    "A1,홍길동,010-1234-5678,1990.01.02,남,Y,서울 강남구",
    "A2,김영희,01022223333,19851231,여성,미동의,경기 성남시",
]


def write(tmp_path: Path, lines: list[str], encoding: str = "utf-8", sep: str = ",") -> Path:
    path = tmp_path / "in.csv"
    text = "\r\n".join(line.replace(",", sep) for line in lines) + "\r\n"
    if encoding in ("utf-16-le", "utf-16-be"):
        text = "\ufeff" + text  # with its byte-order mark, as Excel writes it
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, kind: ImportKind = ImportKind.CUSTOMERS, size: int = 1000) -> list[Batch]:
    _, table, columns = open_import(path, kind)
    try:
        return list(batches(table, columns, kind, size))
    finally:
        table.close()


def staged(batch: Batch) -> list[list[str]]:
    return [line.split("\t") for line in batch.stage_text().decode().splitlines()]


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                               ("cp949", "cp949"), ("euc-kr", "cp949"), ("utf-16", "utf-16"),
                               ("utf-16-le", "utf-16"), ("utf-16-be", "utf-16")],
)  # fmt: skip
@pytest.mark.parametrize("sep", [",", "\t"])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, expected: str, sep: str) -> None:
    path = write(tmp_path, [HEADER, *ROWS], encoding, sep)
    info, table, _ = open_import(path, ImportKind.CUSTOMERS)
    table.close()
    assert info.encoding == expected
    assert info.delimiter == sep
    (batch,) = read(path)
    rows = staged(batch)
    assert [r[4] for r in rows] == ["홍길동", "김영희"]
    assert [r[1] for r in rows] == ["+821012345678", "+821022223333"]
    assert rows[0][8:] == ["서울특별시", "1990-01-02", "M", "t"]
    assert rows[1][8:] == ["경기도", "1985-12-31", "F", "f"]


def test_cp949_found_after_a_long_ascii_start(tmp_path: Path) -> None:
    lines = ["phone,name", *(f"010-1000-{i:04d},abc" for i in range(3000)), "010-2000-0000,홍길동"]
    path = write(tmp_path, lines, "cp949")
    info, table, _ = open_import(path, ImportKind.CUSTOMERS)
    table.close()
    assert info.encoding == "cp949"


def test_bad_rows_and_warnings_with_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, [
        HEADER + ",비고",
        "A1,홍길동,010-1234-5678,1990-13-01,X,maybe,서울,memo",
        "A2,무명,12345,,,,,",
        ",,,,,,,",  # blank: not a row
        'A3,"줄\n바꿈",,,,,,',
        "A4,김,010.2222.3333,,,,,",
    ])  # fmt: skip
    (batch,) = read(path)
    assert batch.rows == 4
    assert batch.invalid == 2
    assert batch.warned == 1
    assert batch.issues == [
        (2, "birth date unreadable; gender unreadable; marketing consent unreadable",
         "1990-13-01; X; maybe"),
        (3, "invalid phone number", "12345"),
        (5, "missing phone number", ""),
    ]  # fmt: skip
    rows = staged(batch)
    assert len(rows) == 2
    assert rows[0][9:] == ["\\N", "\\N", "\\N"]  # unreadable values left empty
    assert rows[1][0] == "7"  # the quoted cell spanned lines 5-6


def test_repeated_phones_merge_later_cells_win(tmp_path: Path) -> None:
    path = write(tmp_path, [
        HEADER,
        "A1,홍길동,010-1234-5678,,,Y,",
        "A1,,+82 10 1234 5678,1990-01-02,,,부산 해운대구",
        "A9,,01012345678,,,N,",
    ])  # fmt: skip
    (batch,) = read(path)
    assert (batch.rows, batch.duplicates, batch.staged, batch.repeats) == (3, 2, 1, 0)
    (row,) = staged(batch)
    assert row[3:] == ["A9", "홍길동", "\\N", "부산 해운대구", "\\N", "부산광역시", "1990-01-02",
                       "\\N", "f"]  # fmt: skip


def test_repeats_across_batches_are_staged_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, *ROWS, "A1,홍길동,010-1234-5678,,,,", ROWS[1]])
    first, second = read(path, size=2)
    assert (first.staged, first.duplicates, first.repeats) == (2, 0, 0)
    assert (second.rows, second.staged, second.duplicates, second.repeats) == (2, 2, 2, 2)


def test_one_external_id_for_two_phones_keeps_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, "A1,가,010-1111-2222,,,,", "A1,나,010-3333-4444,,,,"])
    (batch,) = read(path)
    rows = staged(batch)
    assert [r[3] for r in rows] == ["A1", "\\N"]
    assert batch.issues[0][0] == 3


def test_cells_are_escaped_for_copy(tmp_path: Path) -> None:
    path = write(tmp_path, ["phone,name", '010-1234-5678,"a\\b\tc"'])
    (batch,) = read(path)
    assert staged(batch)[0][4] == "a\\\\b\\tc"


def test_no_phone_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, ["이름,주소", "홍길동,서울"])
    with pytest.raises(ImportFailed, match="no phone column"):
        open_import(path, ImportKind.CUSTOMERS)


def test_dnc_list_without_header(tmp_path: Path) -> None:
    path = write(tmp_path, ["010-1111-2222", "01011112222", "", "nope", "+82 10 3333 4444"])
    (batch,) = read(path, ImportKind.DNC)
    assert (batch.rows, batch.invalid, batch.duplicates, batch.staged) == (4, 1, 1, 2)
    assert batch.issues == [(4, "invalid phone number", "nope")]


def test_dnc_csv_with_phone_and_date(tmp_path: Path) -> None:
    lines = ["전화번호,등록일,메모", "010-1111-2222,2024.03.01,x", "010-3333-4444,bad,"]
    path = write(tmp_path, lines)
    info, table, _ = open_import(path, ImportKind.DNC)
    table.close()
    assert info.unknown_columns == ["메모"]
    (batch,) = read(path, ImportKind.DNC)
    assert staged(batch) == [["2", "+821011112222", "2024-03-01"], ["3", "+821033334444", "\\N"]]
    assert batch.warned == 1


def test_short_and_long_rows(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, "A1,홍길동,010-1234-5678", ROWS[1] + ",extra,cells"])
    (batch,) = read(path)
    rows = staged(batch)
    assert [r[1] for r in rows] == ["+821012345678", "+821022223333"]
    assert rows[0][5:] == ["\\N"] * 7  # the missing cells are empty
    assert rows[1][8] == "경기도"


def test_a_phone_from_an_earlier_batch_repeated_within_a_batch(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, ROWS[0], ROWS[1], ROWS[0], ROWS[0].replace("Y", "N")])
    _, second = read(path, size=2)
    assert (second.staged, second.duplicates, second.repeats, second.known) == (1, 2, 1, [0])
    assert staged(second)[0][-1] == "f"


# A reference for the merge rules, row by row, to check the column-wise parser against.
_POOL = ["010-1111-2222", "01011112222", "+82 10 3333 4444", "010-5555-6666", "nope", ""]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["", "R1", "R2", "R3"]), st.sampled_from(["", "가", "나"]),
    st.sampled_from(_POOL), st.sampled_from(["", "1990-01-02", "1990-13-01", "19851231"]),
    st.sampled_from(["", "Y", "N", "maybe"]),
), min_size=1, max_size=12))  # fmt: skip
def test_merging_matches_the_row_by_row_rules(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str, str, str]]
) -> None:
    path = write(tmp_path_factory.mktemp("p"), ["고객번호,이름,휴대폰번호,생년월일,마케팅수신동의",
                                                *(",".join(r) for r in rows)])  # fmt: skip
    found = read(path)
    if not any(any(row) for row in rows):
        assert found == []  # blank lines only: nothing to write
        return
    (batch,) = found
    expected: dict[str, list[str]] = {}  # phone -> [line, ref, name, birth, consent]
    owners: dict[str, str] = {}
    invalid = 0
    for line, (ref, name, raw, birth, consent) in enumerate(rows, start=2):
        if not any((ref, name, raw, birth, consent)):
            continue  # a blank line
        phone = normalize(raw)
        if phone is None:
            invalid += 1
            continue
        if ref and owners.setdefault(ref, phone.e164) != phone.e164:
            ref = ""
        cells = [str(line) if ref else "", ref, name,
                 {"1990-01-02": "1990-01-02", "19851231": "1985-12-31"}.get(birth, ""),
                 {"Y": "t", "N": "f"}.get(consent, "")]  # fmt: skip
        record = expected.setdefault(phone.e164, [str(line), "", "", "", ""])
        for i, value in enumerate(cells):
            if value:
                record[i] = value
    assert batch.invalid == invalid
    assert batch.phones == list(expected)
    got = [[r[0], r[3], r[4], r[9], r[11]] for r in staged(batch)]
    want = [[v or "\\N" for v in record] for record in expected.values()]
    assert got == want


@pytest.mark.parametrize("size", [1, 2, 3, 100])
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_numbers_with_line_breaks_in_quoted_cells(
    tmp_path: Path, size: int, eol: str
) -> None:
    lines = ["phone,memo", "010-1111-0001,a", '010-1111-0002,"b\r\nc\rd\ne"', "",
             '010-1111-0003,"f\n\ng"', "010-1111-0004,h"]  # fmt: skip
    path = tmp_path / "in.csv"
    path.write_bytes(eol.join(lines).encode() + eol.encode())
    expected = []  # (line, phone) by reading one row at a time and watching line_num
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        last = 1
        for cells in reader:
            if cells:
                expected.append((last + 1, cells[0]))
            last = reader.line_num
    _, table, _ = open_import(path, ImportKind.CUSTOMERS)
    got = []
    try:
        while True:
            numbers, rows = table.rows.chunk(size)
            if not rows:
                break
            got += [(n, r[0]) for n, r in zip(numbers, rows, strict=True) if r]
    finally:
        table.close()
    assert got == expected
    assert [n for n, _ in got] == [2, 3, 8, 11]


def test_a_file_with_only_a_phone_column(tmp_path: Path) -> None:
    path = write(tmp_path, ["휴대폰", "010-1234-5678", "nope", "010 2222 3333"])
    (batch,) = read(path)
    assert (batch.rows, batch.staged, batch.invalid) == (3, 2, 1)
    assert [r[1] for r in staged(batch)] == ["+821012345678", "+821022223333"]


def test_a_batch_crosses_the_pipe_unchanged(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS, 'A\\3,"이\t름",010-3333-4444,,,,', ",,010-5555-6666,,,,"]
    path = write(tmp_path, lines)
    (batch,) = read(path)
    copy = pickle.loads(pickle.dumps(batch))
    assert copy == batch
    assert copy.consents == ["t", "f", "\\N", "\\N"]
    assert copy.refs == ["A1", "A2", "A\\3", None]
    assert pickle.loads(pickle.dumps(Batch(
        staged=0, repeats=0, rows=1, duplicates=0, invalid=1, warned=0, issues=[(2, "x", "")],
        has_refs=False, position=0,
    ))).lines == []  # fmt: skip
