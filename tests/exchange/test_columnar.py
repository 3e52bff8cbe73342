"""A CSV export normalised a column at a time gives exactly what it gives record by record (columnar)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.exchange.columnar import normalise_slices, read_table
from analyzer.exchange.normalise import FileRead, projection, read_whole
from analyzer.model import CodedColumn, ColumnSlice
from analyzer.readers.csv import CsvReader
from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
from analyzer.synthetic.text_writers import CsvStyle, export_csv
from tests.conftest import DATA
from tests.exchange.same_read import assert_same_read

SAMPLES = Path(__file__).parents[2] / "samples"


def both_ways(path: Path) -> tuple[FileRead, FileRead]:
    by_column = read_table(CsvReader(path, properties=projection()).slices(), str(path))
    by_record = read_whole(iter(CsvReader(path, properties=projection())), str(path), "csv")
    for read in (by_column, by_record):
        for batch in read.batches.values():
            batch.summarise(str(path))
    return by_column, by_record


def mailbox_csv(tmp_path: Path, count: int, *, edit: dict[int, dict[str, str]] | None = None) -> Path:
    objects = []
    for index in range(count):
        props, extended = cas_mailbox(index)
        objects.append((["Deserialized." + TYPE_NAMES[0]], {**props, **extended, **(edit or {}).get(index, {})}))
    path = tmp_path / "Get-CASMailbox.csv"
    path.write_text(export_csv(objects, CsvStyle()), encoding="utf-8-sig", newline="")
    return path


@pytest.mark.parametrize(
    "path",
    [
        *sorted((SAMPLES / "mixed-formats").glob("*.csv")),
        *sorted((DATA / "synthetic").glob("*.csv")),
    ],
    ids=lambda p: p.name,
)
def test_bundled_csv_files_normalise_the_same_either_way(path: Path) -> None:
    assert_same_read(*both_ways(path))


def test_many_slices_with_bad_cells_and_a_lossy_column(tmp_path: Path) -> None:
    bad = {index: {"PopEnabled": "maybe", "ImapEnabled": "perhaps"} for index in range(0, 20_000, 700)}
    bad[8_191] = {"PopEnabled": "nope"}  # on both sides of a slice boundary
    bad[8_192] = {"PopEnabled": "nope"}
    path = mailbox_csv(tmp_path, 20_000, edit=bad)
    by_column, by_record = both_ways(path)
    assert_same_read(by_column, by_record)
    batch = by_column.batches["cas_mailbox"]
    assert batch.count == 20_000
    assert any("more unreadable cells" in p.message for p in batch.problems)  # capped the same way
    assert batch.lossy  # EmailAddresses holds a collection's type name
    assert batch.frame()["source_index"].tolist() == list(range(20_000))


def test_rows_of_no_known_dataset_are_counted_the_same(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text('#TYPE Contoso.Widget\r\n"Colour","Size"\r\n"red","2"\r\n"blue","3"\r\n', encoding="utf-8")
    by_column, by_record = both_ways(path)
    assert_same_read(by_column, by_record)
    assert by_column.batches[""].count == 2 and by_column.batches[""].type_names == {"Contoso.Widget"}


# Cells a POP3 settings export can hold, good and bad, repeated so that values recur down a column as in a real
# export; None is $null (an unquoted empty cell), "" a quoted empty one.
_CELLS = {
    "Server": st.sampled_from(["EXCH01", "exch01", "EXCH02", "", None, "  ", "EXCH01.contoso.com"]),
    "Identity": st.sampled_from(["EXCH01\\1", "EXCH02\\1", "", None, "\\1", "EXCH01"]),
    "DistinguishedName": st.sampled_from(["CN=1,CN=POP3,CN=Protocols,CN=EXCH02,CN=Servers,CN=First", "", None, "CN=x"]),
    "Guid": st.sampled_from(["5D9B...A1", "5d9b...a1", "", None, "0F00-1"]),
    "LoginType": st.sampled_from(["SecureLogin", "PlainTextLogin", "PlainTextAuthentication", "secure", "", None]),
    "X509CertificateName": st.sampled_from(["mail.contoso.com", "", None]),
    "UnencryptedOrTLSBindings": st.sampled_from(["System.Object[]", "[::]:110", "", None]),
    "ProtocolLogEnabled": st.sampled_from(["True", "False", "true", "maybe", "", None]),
    "ProxyTargetPort": st.sampled_from(["1995", "0", "-1", "port", "", None, "99999999999999999999"]),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(_CELLS), min_size=1, max_size=40))
def test_random_cells_normalise_the_same_either_way(tmp_path: Path, rows: list[dict[str, str | None]]) -> None:
    """Recurring, missing, empty and unreadable cells; servers and identities decided per distinct combination."""
    path = tmp_path / "EXCH01-Get-PopSettings.csv"
    objects = [(["Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.Pop3AdConfiguration"], row)
               for row in rows]  # fmt: skip
    path.write_text(export_csv(objects, CsvStyle()), encoding="utf-8-sig", newline="")
    by_column, by_record = both_ways(path)
    assert_same_read(by_column, by_record)
    assert by_column.batches["pop_settings"].count == len(rows)


def test_a_lone_surrogate_in_a_slice_is_replaced_and_located_as_the_record_path_does() -> None:
    """A decoded CSV holds no lone surrogate (pyarrow keeps valid UTF-8 only), but a slice is normalised to the same
    rows whatever made it: text cells are stored as they are, so the check is the column path's own."""
    names = ["user\udfb5", "user2", "user\udfb5"]
    piece = ColumnSlice(
        "slice.csv", (TYPE_NAMES[0],), True, 0, [2, 3, 4],
        {"Name": CodedColumn(np.asarray([0, 1, 0]), ["user\udfb5", "user2"]),
         "PopEnabled": CodedColumn(np.asarray([0, 1, -1]), ["True", "False"]),
         "ImapEnabled": CodedColumn(np.asarray([0, 0, 0]), ["True"])},
    )  # fmt: skip
    by_column = FileRead()
    for name, batch in normalise_slices([piece], path="slice.csv"):
        by_column.batches[name], by_column.records = batch, by_column.records + batch.count
    by_record = read_whole(piece.records(), "slice.csv", "csv")
    for read in (by_column, by_record):
        for batch in read.batches.values():
            batch.summarise("slice.csv")
    assert_same_read(by_column, by_record)
    assert by_column.batches["cas_mailbox"].frame()["Name"].tolist() == [n.replace("\udfb5", "\ufffd") for n in names]
    assert [p.line for p in by_column.batches["cas_mailbox"].problems] == [2, 4]
