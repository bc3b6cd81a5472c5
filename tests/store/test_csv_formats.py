"""CSV files as spreadsheets save them: BOM, CRLF, ';', Windows-1252, and damaged bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.completions import import_completions_csv
from store.errors import ValidationError
from store.models import Completion, Person
from store.people import import_people_csv, read_csv_file
from tests.builders import person

pytestmark = pytest.mark.usefixtures("sqlite_store")

ROWS = [
    ("email", "name", "department", "role", "location"),
    ("zoe@example.org", "Zoë Ångström", "R&D; Labs", "Chemist", "Malmö"),
    ("jose@example.org", "José Núñez", "Ventas", "Gerente", "Málaga"),
]


def _csv(sep: str, newline: str) -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if sep in value or "," in value else value

    return "".join(sep.join(cell(v) for v in row) + newline for row in ROWS)


@pytest.mark.parametrize(
    ("encoding", "sep", "newline", "named"),
    [
        ("utf-8", ",", "\n", None),
        ("utf-8-sig", ",", "\r\n", None),  # Excel's "CSV UTF-8"
        ("utf-8-sig", ";", "\r\n", None),  # the same in a comma-decimal locale
        ("utf-8", ";", "\n", None),
        ("cp1252", ";", "\r\n", None),  # older Excel, detected
        ("cp1252", ",", "\n", "cp1252"),  # named with --encoding
        ("cp1252", ",", "\n", "windows-1252"),
        ("utf-16", ";", "\r\n", None),  # "Unicode text", with its BOM
    ],
)
def test_people_import_reads_every_format(
    tmp_path: Path, encoding: str, sep: str, newline: str, named: str | None
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(_csv(sep, newline).encode(encoding))
    import_people_csv(read_csv_file(path, encoding=named))
    stored = {p.email: (p.name, p.department, p.location) for p in Person.select()}
    assert stored == {
        "zoe@example.org": ("Zoë Ångström", "R&D; Labs", "Malmö"),
        "jose@example.org": ("José Núñez", "Ventas", "Málaga"),
    }


def test_damaged_utf8_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    good = _csv(",", "\r\n").encode("utf-8")
    path.write_bytes(good + b"bad@example.org,Bj\xf6rn \xc3\xa5,Sales,,\r\n")
    with pytest.raises(ValidationError) as err:
        import_people_csv(read_csv_file(path))
    assert err.value.field == "file"
    assert "line 4" in str(err.value)
    assert "0xf6" in str(err.value)
    assert Person.select().count() == 0


def test_bytes_undefined_in_the_named_encoding_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"email,name\r\na@example.org,A\r\nb@example.org,B\x81\r\n")
    with pytest.raises(ValidationError) as err:
        read_csv_file(path, encoding="cp1252")
    assert "line 3" in str(err.value)
    with pytest.raises(ValidationError) as unknown:
        read_csv_file(path, encoding="klingon-8")
    assert unknown.value.field == "encoding"


def test_completions_import_reads_excel_semicolons_in_windows_1252(tmp_path: Path) -> None:
    person("ann@example.org", "Ann")
    path = tmp_path / "done.csv"
    text = "email;item;completed_on\r\nann@example.org;Sécurité – base;2026-01-05\r\n"
    path.write_bytes(text.encode("cp1252"))
    result = import_completions_csv(read_csv_file(path))
    assert result.added == 1
    assert Completion.get().elearning.name == "Sécurité – base"
