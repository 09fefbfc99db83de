"""The recordings manifest: strict loading, every error at once with its line number."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from session_rater.errors import ManifestError
from session_rater.io.manifest import (
    COLUMNS,
    MAX_MANIFEST_BYTES,
    MAX_MANIFEST_ROWS,
    ManifestEntry,
    load_manifest,
    missing_files,
)

HEADER = ",".join(COLUMNS)
GOOD_ROW = (
    "tf01-s03-problem-solving.mp4,Think First,Carlisle TF-01,3,"
    "Problem solving: defining the problem,2026-02-10,Carlisle,no,Sam Rowe;Priya Nair"
)


def write(tmp_path: Path, *lines: str, bom: bool = False) -> Path:
    path = tmp_path / "manifest.csv"
    text = "\n".join(lines) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def row(**changes: str) -> str:
    cells = dict(zip(COLUMNS, GOOD_ROW.split(",")))
    cells.update(changes)
    return ",".join(f'"{v}"' if "," in v else v for v in cells.values())


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.source == str(path)
    return info.value.errors


def test_good_manifest_loads_with_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        GOOD_ROW,
        "",  # blank lines are skipped
        'sub/tf02-s07.mp4,Think First,Barrow TF-02,7,"Consequential thinking, part 2",'
        "2026-05-07,Barrow,YES, Tom Hughes ; Sam Rowe ;Jo Bell",
        row(file="c.mp4", catch_up="true", tutors="Jo Bell"),
        row(file="d.mp4", catch_up="0"),
        bom=True,
    )
    entries = load_manifest(path)

    assert [e.file for e in entries] == ["tf01-s03-problem-solving.mp4", "sub/tf02-s07.mp4", "c.mp4", "d.mp4"]
    first, second = entries[0], entries[1]
    assert isinstance(first, ManifestEntry)
    assert first.programme == "Think First"
    assert first.group == "Carlisle TF-01"
    assert first.session_number == 3
    assert first.session_title == "Problem solving: defining the problem"
    assert first.date == dt.date(2026, 2, 10)
    assert first.site == "Carlisle"
    assert first.catch_up is False
    assert first.tutors == ("Sam Rowe", "Priya Nair")
    assert first.path == (tmp_path / "tf01-s03-problem-solving.mp4").resolve()
    assert first.path.is_absolute()

    assert second.session_title == "Consequential thinking, part 2"
    assert second.catch_up is True
    assert second.tutors == ("Tom Hughes", "Sam Rowe", "Jo Bell")
    assert second.path == (tmp_path / "sub" / "tf02-s07.mp4").resolve()
    assert [e.catch_up for e in entries[2:]] == [True, False]
    assert entries[2].tutors == ("Jo Bell",)
    with pytest.raises(AttributeError):
        first.session_number = 4  # type: ignore[misc]


def test_header_only_gives_no_entries(tmp_path: Path) -> None:
    assert load_manifest(write(tmp_path, HEADER)) == []


def test_missing_files_lists_absent_recordings(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, row(file="here.mp4"), row(file="gone.mp4"))
    (tmp_path / "here.mp4").write_bytes(b"x")
    entries = load_manifest(path)  # loading does not need the files
    assert [e.file for e in missing_files(entries)] == ["gone.mp4"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"date": "2026-02-30"}, "date '2026-02-30'"),
        ({"date": "10/02/2026"}, "date '10/02/2026'"),
        ({"date": "20260210"}, "date '20260210'"),
        ({"date": ""}, "date is empty"),
        ({"session_number": "three"}, "session_number 'three'"),
        ({"session_number": "0"}, "session_number '0'"),
        ({"session_number": "3.0"}, "session_number '3.0'"),
        ({"catch_up": "maybe"}, "catch_up 'maybe'"),
        ({"tutors": ""}, "tutors is empty"),
        ({"tutors": "Sam Rowe;;Jo Bell"}, "empty name"),
        ({"tutors": "A One;B Two;C Three;D Four"}, "4 names; at most 3"),
        ({"tutors": "Jo Bell;Jo Bell"}, "same tutor twice"),
        ({"group": ""}, "group is empty"),
        ({"file": ""}, "file is empty"),
        ({"file": "/abs/clip.mp4"}, "relative to the manifest's folder"),
        ({"file": "../clip.mp4"}, "may not contain '..'"),
    ],
)
def test_each_kind_of_bad_row_is_reported_with_its_line(
    tmp_path: Path, changes: dict[str, str], fragment: str
) -> None:
    errors = errors_of(write(tmp_path, HEADER, row(file="ok.mp4"), row(**changes)))
    assert len(errors) == 1, errors
    assert errors[0].startswith("line 3: ")
    assert fragment in errors[0]


def test_duplicate_file_names_both_lines(tmp_path: Path) -> None:
    errors = errors_of(write(tmp_path, HEADER, row(file="a.mp4"), row(file="b.mp4"), row(file="./a.mp4")))
    assert errors == ["line 4: file './a.mp4' is already listed on line 2; list each recording once"]


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    errors = errors_of(write(tmp_path, HEADER, GOOD_ROW + ",extra"))
    assert len(errors) == 1
    assert errors[0].startswith("line 2: has 10 fields, expected 9")


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        row(file="a.mp4"),
        row(file="b.mp4", date="2026-13-01", session_number="x"),
        row(file="c.mp4"),
        row(file="d.mp4", catch_up="perhaps"),
        row(file="a.mp4", tutors=""),
    )
    errors = errors_of(path)
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 3", "line 5", "line 6", "line 6"]
    text = "\n".join(errors)
    for fragment in ("session_number 'x'", "date '2026-13-01'", "catch_up 'perhaps'", "tutors is empty",
                     "already listed on line 2"):
        assert fragment in text
    with pytest.raises(ManifestError, match=r"\(5 error\(s\)\)"):
        load_manifest(path)


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    header = HEADER.replace(",site", "").replace("tutors", "tutor") + ",notes"
    errors = errors_of(write(tmp_path, header, "whatever"))
    assert errors[0] == "line 1: missing column(s): site, tutors"
    assert errors[1].startswith("line 1: unknown column(s): 'tutor', 'notes'")
    assert errors[-1] == f"line 1: the header must be: {HEADER} (optionally also: area,team)"


def test_columns_in_another_order_are_accepted(tmp_path: Path) -> None:
    cols = list(reversed(COLUMNS))
    cells = dict(zip(COLUMNS, GOOD_ROW.split(",")))
    path = write(tmp_path, ",".join(cols), ",".join(cells[c] for c in cols))
    [entry] = load_manifest(path)
    assert entry.file == "tf01-s03-problem-solving.mp4"
    assert entry.tutors == ("Sam Rowe", "Priya Nair")
    assert entry.date == dt.date(2026, 2, 10)


def test_empty_and_absent_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "the file is empty" in errors_of(empty)[0]
    absent = tmp_path / "absent.csv"
    assert "does not exist" in errors_of(absent)[0]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes((HEADER + "\n" + row(site="Wörkington") + "\n").encode("latin-1"))
    assert "not UTF-8" in errors_of(path)[0]


def test_committed_demo_manifest_is_valid() -> None:
    manifest = Path(__file__).resolve().parents[2] / "sample_sessions" / "manifest.csv"
    entries = load_manifest(manifest)
    assert len(entries) == 6
    assert {e.group for e in entries} == {"Carlisle TF-01", "Barrow TF-02"}
    assert {e.site for e in entries} == {"Carlisle", "Barrow"}
    assert {e.programme for e in entries} == {"Think First"}
    assert any(e.catch_up for e in entries)
    assert all(len(e.tutors) == 2 for e in entries)
    assert len({t for e in entries for t in e.tutors}) == 4


def test_area_and_team_are_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text(
        "file,programme,group,session_number,session_title,date,site,catch_up,tutors,area,team\n"
        "a.mp4,Think First,TF-01,3,Problem solving,2026-02-10,Carlisle,no,Sam Rowe,Cumbria,Carlisle team\n"
        "b.mp4,Think First,TF-01,4,Problem solving,2026-02-17,Carlisle,no,Sam Rowe,,\n",
        encoding="utf-8",
    )
    first, second = load_manifest(path)
    assert (first.area, first.team) == ("Cumbria", "Carlisle team")
    assert (second.area, second.team) == (None, None)


# -- limits ------------------------------------------------------------------------------------


def test_a_manifest_at_exactly_the_row_and_size_limits_loads(tmp_path: Path) -> None:
    # One recording and 99,999 blank rows (blank rows count), padded with spaces to 64 MiB.
    blank_rows = MAX_MANIFEST_ROWS - 1
    room = MAX_MANIFEST_BYTES - len(f"{HEADER}\n{GOOD_ROW}\n")
    width, wider = divmod(room, blank_rows)  # bytes per blank row, newline included
    path = tmp_path / "manifest.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(f"{HEADER}\n{GOOD_ROW}\n")
        handle.write((" " * width + "\n") * wider)
        handle.write((" " * (width - 1) + "\n") * (blank_rows - wider))
    assert path.stat().st_size == MAX_MANIFEST_BYTES

    [entry] = load_manifest(path)

    assert entry.file == "tf01-s03-problem-solving.mp4"


def test_one_row_over_the_limit_is_refused_before_any_row_is_checked(tmp_path: Path) -> None:
    rows = "".join(row(file=f"s{n}.mp4", date="not a date") + "\n" for n in range(MAX_MANIFEST_ROWS + 1))
    path = tmp_path / "manifest.csv"
    path.write_text(f"{HEADER}\n{rows}", encoding="utf-8")
    started = time.perf_counter()

    errors = errors_of(path)

    assert time.perf_counter() - started < 2.0  # validating 100,001 rows would take several seconds
    assert errors == [
        "line 100002: the manifest has more than 100,000 rows (the limit; blank lines count); split it "
        "into manifests of at most 100,000 rows, e.g. one manifest.csv per folder of recordings"
    ]


def test_one_byte_over_the_size_limit_is_refused_from_the_size_alone(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: never read
    assert errors_of(path) == [
        "the file is 67,108,865 bytes, more than the limit of 67,108,864 bytes (64 MiB); split it into "
        "manifests of at most 100,000 rows, e.g. one manifest.csv per folder of recordings"
    ]


def test_10000_bad_rows_list_the_first_50_and_count_the_other_9950(tmp_path: Path) -> None:
    rows = [row(file=f"s{n}.mp4", date="2026-02-30") for n in range(10_000)]
    path = write(tmp_path, HEADER, *rows)

    with pytest.raises(ManifestError) as info:
        load_manifest(path)

    error = info.value
    assert error.problem_count == 10_000
    assert error.errors[0] == "line 2: date '2026-02-30' is not a real date written as YYYY-MM-DD"
    assert error.errors[49].startswith("line 51: ")
    assert error.errors[50:] == ["... and 9,950 more problems (fix these, then check the file again)"]
    assert str(error).startswith(f"Manifest {path} is invalid (10,000 error(s)):")
    assert len(str(error).splitlines()) == 52  # the heading, 50 problems, how many more
