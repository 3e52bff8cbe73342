"""A second, independent shape of Get-CASMailbox export for the benchmarks, written without the project's own
generator (analyzer/synthetic): numbers that only hold on the shape the code was written against are not numbers.

Each mailbox has 67 properties and about 4 KB of CLIXML (the project's generator: 84 properties, 4.6 KB, nearly
every mailbox passing): longer proxy-address lists, one nested object per mailbox, more dates and GUIDs, and a
realistic share of failures — POP3 off for one mailbox in four, IMAP4 off for one in ten. The rest of the bundle
(servers, services, settings, certificates) is the healthy-2019 sample's, so that attribution and the rules run as
in a real scan.

    python benchmarks/other_exports.py OUT_FOLDER --mailboxes 100000 [--csv]

With --csv the mailboxes are written as Export-Csv writes the same objects from Windows PowerShell 5.1 with
`-Encoding UTF8` (a BOM, a `#TYPE` line, every cell quoted, dates as en-US writes them, a collection as its type
name): the second shape for the CSV figures.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
_HEADER = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\r\n'
_TYPES = ("Deserialized.Microsoft.Exchange.Data.Directory.Management.CASMailbox",
          "Deserialized.Microsoft.Exchange.Data.Directory.ADPresentationObject", "Deserialized.System.Object")  # fmt: skip
# Booleans and short settings a CASMailbox carries besides the protocol switches (names as Exchange writes them).
_FLAGS = ("ActiveSyncEnabled", "OWAEnabled", "OWAforDevicesEnabled", "MAPIEnabled", "MAPIBlockOutlookNonCachedMode",
          "MAPIBlockOutlookRpcHttp", "MAPIBlockOutlookExternalConnectivity", "EwsEnabled", "ECPEnabled",
          "PopUseProtocolDefaults", "PopForceICalForCalendarRetrievalOption", "PopSuppressReadReceipt",
          "ImapUseProtocolDefaults", "ImapForceICalForCalendarRetrievalOption", "ImapSuppressReadReceipt",
          "ActiveSyncDebugLogging", "HasActiveSyncDevicePartnership", "ShowGalAsDefaultView", "IsValid",
          "UniversalOutlookEnabled", "OutlookMobileEnabled", "MacOutlookEnabled", "OneWinNativeOutlookEnabled",
          "PublicFolderClientAccess", "SmtpClientAuthenticationDisabled", "HasOnlineArchive",
          "PopEnableExactRFC822Size", "ImapEnableExactRFC822Size", "PopProtocolLoggingEnabled",
          "ImapProtocolLoggingEnabled", "ActiveSyncSuppressReadReceipt", "EwsAllowOutlook", "EwsAllowMacOutlook")  # fmt: skip


def _mailbox(index: int, rng: random.Random, ref: int) -> str:
    alias = f"m{index:07d}.{rng.choice(('sales', 'ops', 'fin', 'eng', 'hr'))}"
    server = ("EXCH01", "EXCH02")[index % 2]
    guid = uuid.UUID(int=rng.getrandbits(128))
    when = f"20{rng.randint(15, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T0{rng.randint(0, 9)}:1{rng.randint(0, 9)}:00"
    addresses = [f"SMTP:{alias}@contoso.com"] + [f"smtp:{alias}.{n}@contoso{n}.net" for n in range(rng.randint(2, 9))]
    props = [
        f'<S N="Name">{alias}</S>', f'<S N="DisplayName">{escape(alias.title())} Ström &amp; Co</S>',
        f'<S N="PrimarySmtpAddress">{alias}@contoso.com</S>', f'<S N="SamAccountName">{alias[:20]}</S>',
        f'<S N="ServerName">{server.lower()}</S>', f'<S N="Identity">contoso.com/Users/{alias}</S>',
        f'<S N="DistinguishedName">CN={alias},OU=Users,DC=contoso,DC=com</S>',
        f'<G N="Guid">{guid}</G>', f'<G N="ExchangeObjectId">{guid}</G>',
        f'<B N="PopEnabled">{"false" if index % 4 == 1 else "true"}</B>',
        f'<B N="ImapEnabled">{"false" if index % 10 == 3 else "true"}</B>',
        f'<DT N="WhenChanged">{when}+09:00</DT>', f'<DT N="WhenCreated">{when}+09:00</DT>',
        f'<DT N="WhenChangedUTC">{when}Z</DT>', f'<DT N="WhenCreatedUTC">{when}Z</DT>',
        '<S N="PopMessagesRetrievalMimeFormat">BestBodyFormat</S>', '<S N="ImapMessagesRetrievalMimeFormat">TextOnly</S>',
        '<Nil N="OwaMailboxPolicy" />', '<Nil N="EwsAllowList" />', '<Nil N="EwsBlockList" />',
        f'<S N="LegacyExchangeDN">/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={guid.hex}-{alias}</S>',
        f'<Obj N="EmailAddresses" RefId="{ref + 1}"><TNRef RefId="1" /><LST>'
        + "".join(f"<S>{a}</S>" for a in addresses) + "</LST></Obj>",
        f'<Obj N="ActiveSyncAllowedDeviceIDs" RefId="{ref + 2}"><TNRef RefId="1" /><LST /></Obj>',
        f'<Obj N="ObjectClass" RefId="{ref + 3}"><TNRef RefId="1" /><LST><S>top</S><S>person</S><S>organizationalPerson</S><S>user</S></LST></Obj>',
    ]  # fmt: skip
    props += [f'<B N="{name}">{"true" if rng.random() < 0.7 else "false"}</B>' for name in _FLAGS]
    props += [
        f'<S N="CustomAttribute{n}">{rng.choice(("", "VIP", "contractor", "shared-" + alias))}</S>'
        for n in range(1, 10)
    ]
    return (f'  <Obj RefId="{ref}">\r\n    <TNRef RefId="0" />\r\n    <ToString>{alias}</ToString>\r\n    <Props>\r\n      '
            + "\r\n      ".join(props) + "\r\n    </Props>\r\n  </Obj>\r\n")  # fmt: skip


_ELEMENT = re.compile(r'<(\w+) N="([^"]+)"(?: RefId="\d+")?\s*(/>|>(.*?)</\1>)', re.DOTALL)
_COLLECTIONS = {"EmailAddresses": "Microsoft.Exchange.Data.ProxyAddressCollection"}


def _csv_cells(clixml: str) -> dict[str, str]:
    """The cells Export-Csv writes for the mailbox `_mailbox` wrote as CLIXML."""
    cells: dict[str, str] = {}
    for tag, name, _end, inner in _ELEMENT.findall(clixml.split("<Props>", 1)[1]):
        if tag == "Nil":
            cells[name] = ""
        elif tag == "Obj":  # Export-Csv writes a collection's type name, not its items
            cells[name] = _COLLECTIONS.get(name, "Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]")
        elif tag == "B":
            cells[name] = "True" if inner == "true" else "False"
        elif tag == "DT":
            when = inner[:19]
            hour = int(when[11:13])
            cells[name] = (f"{int(when[5:7])}/{int(when[8:10])}/{when[:4]} {hour % 12 or 12}{when[13:19]} "
                           f"{'AM' if hour < 12 else 'PM'}")  # fmt: skip
        else:
            cells[name] = inner.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return cells


def write_bundle(folder: Path, mailboxes: int, seed: int = 20261206, *, as_csv: bool = False) -> Path:
    """The healthy-2019 sample with its mailboxes replaced by `mailboxes` of this shape."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ROOT / "samples" / "healthy-2019", folder)
    for name in ("manifest.json", "Get-CASMailbox.xml", "Get-Mailbox.xml"):
        (folder / name).unlink(missing_ok=True)
    rng = random.Random(seed)
    type_lists = (
        '  <TN RefId="0">' + "".join(f"<T>{t}</T>" for t in _TYPES) + "</TN>\r\n"
        '  <TN RefId="1"><T>Deserialized.Microsoft.Exchange.Data.ProxyAddressCollection</T><T>System.Object</T></TN>\r\n'
    )
    if as_csv:
        with (folder / "Get-CASMailbox.csv").open("w", encoding="utf-8-sig", newline="") as out:
            out.write(f"#TYPE {_TYPES[0]}\r\n")
            writer: Any = None
            for index in range(mailboxes):
                cells = _csv_cells(_mailbox(index, rng, index * 4))
                if writer is None:
                    writer = csv.DictWriter(out, list(cells), quoting=csv.QUOTE_ALL, lineterminator="\r\n")
                    writer.writeheader()
                writer.writerow(cells)
        return folder
    with (folder / "Get-CASMailbox.xml").open("w", encoding="utf-16", newline="") as out:
        out.write(_HEADER)
        for index in range(mailboxes):
            out.write(_mailbox(index, rng, index * 4) if index else _first(rng, type_lists))
        out.write("</Objs>")
    return folder


def _first(rng: random.Random, type_lists: str) -> str:
    """The first object defines the type lists the others refer to (as Export-Clixml writes them)."""
    own, proxies = type_lists.strip().split("\r\n")
    first = _mailbox(0, rng, 0)
    return first.replace('<TNRef RefId="0" />', own.strip(), 1).replace('<TNRef RefId="1" />', proxies.strip(), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--csv", action="store_true", help="Export-Csv instead of Export-Clixml")
    args = parser.parse_args()
    print(write_bundle(args.folder, args.mailboxes, as_csv=args.csv))


if __name__ == "__main__":
    main()
