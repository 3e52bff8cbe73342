"""What an unread input would have supplied, each way of telling on its own and in its order of precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.exchange.datasets import DATASETS
from analyzer.exchange.unread import EVERY_DATASET, datasets_of_unread

_CAS_TYPE = '<Obj RefId="0"><TN RefId="0"><T>Microsoft.Exchange.Data.Directory.Management.CASMailbox</T>'


@pytest.mark.parametrize(
    ("cmdlet", "expected"),
    [
        ("Get-CASMailbox -ResultSize Unlimited", ("cas_mailbox",)),
        ("get-casmailbox", ("cas_mailbox",)),  # PowerShell's names ignore case
        ("  Get-PopSettings -Server EX01", ("pop_settings",)),
        ("Get-ImapSettings\t-Server EX01", ("imap_settings",)),
        ("Get-Service", ("service",)),
        ("Get-ServerComponentState -Identity EX01", ("server_component_state",)),
    ],
)
def test_the_manifests_cmdlet_decides_first(tmp_path: Path, cmdlet: str, expected: tuple[str, ...]) -> None:
    typed = tmp_path / "imap.xml"
    typed.write_text(_CAS_TYPE.replace("CASMailbox", "Imap4AdConfiguration"), encoding="utf-8")
    assert datasets_of_unread("imap.xml", typed, {"cmdlet": cmdlet}) == expected


@pytest.mark.parametrize("entry", [{"cmdlet": "Get-Nothing"}, {"cmdlet": 42}, {"cmdlet": "  "}, {}, None])
def test_a_cmdlet_that_names_nothing_falls_back_to_the_content(tmp_path: Path, entry: dict[str, object] | None) -> None:
    typed = tmp_path / "export.xml"
    typed.write_text(_CAS_TYPE, encoding="utf-8")
    assert datasets_of_unread("export.xml", typed, entry) == ("cas_mailbox",)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_type_names_are_found_in_any_unicode_encoding(tmp_path: Path, encoding: str) -> None:
    typed = tmp_path / "x.xml"
    typed.write_text("\ufeff" * (encoding.startswith("utf-16")) + _CAS_TYPE, encoding=encoding)
    assert datasets_of_unread("x.xml", typed, None) == ("cas_mailbox",)


def test_a_csv_type_line_and_a_header_each_tell(tmp_path: Path) -> None:
    typed = tmp_path / "a.csv"
    typed.write_text(
        '#TYPE Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.Pop3AdConfiguration\n"x"\n'
    )
    assert datasets_of_unread("a.csv", typed, None) == ("pop_settings",)
    header = tmp_path / "b.csv"
    header.write_text('"Name","PopEnabled","ImapEnabled"\n"a","True","True"\n')
    assert datasets_of_unread("b.csv", header, None) == ("cas_mailbox",)
    exactly = tmp_path / "d.csv"
    exactly.write_text('"PopEnabled","ImapEnabled"\n')  # the recognising columns and nothing else
    assert datasets_of_unread("d.csv", exactly, None) == ("cas_mailbox",)
    partial = tmp_path / "c.csv"
    partial.write_text('"Name","PopEnabled"\n')  # one column of the two that recognise the dataset
    assert datasets_of_unread("c.csv", partial, None) == EVERY_DATASET


def test_format_list_labels_tell_and_a_file_naming_two_datasets_supplies_both(tmp_path: Path) -> None:
    listed = tmp_path / "fl.txt"
    listed.write_text("Status      : Running\r\nServiceName : MSExchangePOP3\r\nStartType   : Automatic\r\n")
    assert datasets_of_unread("fl.txt", listed, None) == ("service",)
    both = tmp_path / "both.xml"
    both.write_text(_CAS_TYPE + "<T>Microsoft.Exchange.Data.Directory.Management.Mailbox</T>")
    assert datasets_of_unread("both.xml", both, None) == ("cas_mailbox", "mailbox")


def test_only_the_first_64_kb_are_read(tmp_path: Path) -> None:
    late = tmp_path / "late.xml"
    late.write_text(" " * (64 << 10) + _CAS_TYPE)
    assert datasets_of_unread("late.xml", late, None) == EVERY_DATASET
    early = tmp_path / "early.xml"
    early.write_text(" " * ((64 << 10) - len(_CAS_TYPE) - 20) + _CAS_TYPE)
    assert datasets_of_unread("early.xml", early, None) == ("cas_mailbox",)


def test_a_file_that_cannot_be_opened_is_told_by_its_name(tmp_path: Path) -> None:
    assert datasets_of_unread("Get-ImapSettings.xml", tmp_path / "gone.xml", None) == ("imap_settings",)
    assert datasets_of_unread("folder.xml", tmp_path, None) == EVERY_DATASET  # a folder: OSError on open


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EXCH01/Get-CASMailbox-2.xml", "cas_mailbox"),  # not `mailbox`: the longest word wins
        ("mailboxes.xml", "mailbox"),
        ("EX01-win32service.csv", "service"),
        ("certs.csv", "exchange_certificate"),
        ("ComponentState EX01.txt", "server_component_state"),
        ("pop.txt", "pop_settings"),
        ("IMAP_settings.json", "imap_settings"),
        ("org-config.xml", "organization_config"),
        ("Get-ExchangeServer.xml", "exchange_server"),
    ],
)
def test_the_file_name_tells_last(name: str, expected: str) -> None:
    assert datasets_of_unread(name, None, None) == (expected,)


def test_nothing_told_means_every_dataset() -> None:
    assert datasets_of_unread("notes.bin", None, None) == EVERY_DATASET
    assert tuple(spec.name for spec in DATASETS) == EVERY_DATASET and len(EVERY_DATASET) == 50
