"""Regenerate the synthetic fixtures in this folder: `python tests/data/synthetic/generate.py`.

No public real export of Get-CASMailbox, Get-PopSettings or Get-ImapSettings exists, and few real CSV/JSON/text
captures do; these files are written by exaudit's own emulation of PowerShell's writers
(analyzer/synthetic/text_writers.py), to the shapes documented in shared/docs/input-formats.md. Every file name
starts with `synthetic-`. The output is deterministic.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from analyzer.readers.psvalues import PSDateTime, PSEnum, PSList
from analyzer.synthetic.text_writers import CsvStyle, convert_to_json, export_csv, format_list, format_table

HERE = Path(__file__).parent
CAS_TYPE = "Deserialized.Microsoft.Exchange.Data.Directory.Management.CASMailbox"
MVP = "Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]"
JST = timezone(timedelta(hours=9))


def mailboxes() -> list[tuple[list[str], dict[str, object]]]:
    names = ["山田 太郎", "佐藤 花子", "Müller, Jörg", 'O\'Brien "Ops"', "plain user"]
    out = []
    for index, display in enumerate(names):
        addresses = PSList((MVP,))
        addresses.extend([f"SMTP:user{index}@contoso.com", f"smtp:u{index}@contoso.onmicrosoft.com"])
        out.append(
            (
                [CAS_TYPE],
                {
                    "Name": f"user{index}",
                    "DisplayName": display,
                    "PrimarySmtpAddress": f"user{index}@contoso.com",
                    "PopEnabled": index != 1,
                    "ImapEnabled": index not in (1, 3),
                    "PopUseProtocolDefaults": True,
                    "EwsEnabled": None,
                    "ExternalImapSettings": "",
                    "EmailAddresses": addresses,
                    "Guid": uuid.UUID(int=0x1000 + index),
                    "WhenChangedUTC": PSDateTime(datetime(2024, 3, 1 + index, 8, 30, 15, tzinfo=UTC), "Utc"),
                },
            )
        )
    return out


def services() -> list[tuple[list[str], dict[str, object]]]:
    rows = [
        ("MSExchangeImap4", "Microsoft Exchange IMAP4", "Stopped", 1, "Manual", 3),
        ("MSExchangeIMAP4BE", "Microsoft Exchange IMAP4 Backend", "Stopped", 1, "Manual", 3),
        ("MSExchangePop3", "Microsoft Exchange POP3", "Running", 4, "Automatic", 2),
        ("MSExchangePOP3BE", "Microsoft Exchange POP3 Backend with a display name far too long for its column", "Running", 4, "Automatic", 2),
    ]  # fmt: skip
    return [
        (
            ["System.ServiceProcess.ServiceController"],
            {
                "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", status, status_value),
                "Name": name,
                "DisplayName": display,
                "StartType": PSEnum("System.ServiceProcess.ServiceStartMode", start, start_value),
            },
        )
        for name, display, status, status_value, start, start_value in rows
    ]


def main() -> None:
    boxes = mailboxes()
    ps51 = CsvStyle(delimiter=";", quotes="always", type_line=True)
    (HERE / "synthetic-ps51-export-csv-utf16le-type-semicolon.csv").write_bytes(
        b"\xff\xfe" + export_csv(boxes, ps51).encode("utf-16-le")
    )
    ps7 = CsvStyle(delimiter=",", quotes="as-needed", type_line=False)
    (HERE / "synthetic-ps7-export-csv-utf8-asneeded.csv").write_bytes(export_csv(boxes, ps7).encode("utf-8"))
    (HERE / "synthetic-ps51-format-list-cp932-japanese.txt").write_bytes(
        format_list(boxes[:2], width=120, culture="ja-JP").encode("cp932")
    )
    wrapped = [(["X"], {"Name": "pop", "Banner": "The Microsoft Exchange POP3 service is ready. " * 6,
                       "X509CertificateName": "mail.contoso.com"})]  # fmt: skip
    (HERE / "synthetic-ps51-format-list-wrapped-120.txt").write_bytes(
        b"\xff\xfe" + format_list(wrapped, width=120).encode("utf-16-le")
    )
    (HERE / "synthetic-ps51-format-table-services.txt").write_bytes(
        b"\xff\xfe" + format_table(services(), ["Status", "Name", "DisplayName"], width=80).encode("utf-16-le")
    )
    (HERE / "synthetic-ps51-convertto-json-utf16.json").write_bytes(
        b"\xff\xfe" + convert_to_json(services(), ps51=True).encode("utf-16-le")
    )


if __name__ == "__main__":
    main()
