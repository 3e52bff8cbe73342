"""Keeping an assessor's work across re-scans (`--checklist-baseline DIR`): earlier checklists, CKL or CKLB, read
back and merged into the new ones, nothing overwritten silently.

Hosts are matched by FQDN or short name, a STIG by the Vulns the two checklists share (so a new release of the STIG
still finds the old checklist), items by Vuln ID. Where exaudit leaves an item Not_Reviewed, a person's earlier
status and comments are kept, and the details say so. Where exaudit now decides an item a person had decided
differently, exaudit's status stands, the person's answer stays in the comments, and the conflict is listed. Items
that came or went between the two releases are listed too (`checklist-changes.md`).

Read with the hardening every XML input gets (`analyzer.safe_xml`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from analyzer.errors import InputError
from analyzer.report.checklists import CKLB_STATUS, Checklist, Entry
from analyzer.safe_xml import parse_document

DECIDED = ("NotAFinding", "Open", "Not_Applicable")
_MAX_BYTES = 64 << 20  # a checklist of one STIG is well under a megabyte


@dataclass(frozen=True)
class ReadEntry:
    vuln_id: str
    stig_id: str
    status: str  # CKL's word
    details: str
    comments: str


@dataclass(frozen=True)
class EarlierChecklist:
    path: str
    host_name: str
    fqdn: str
    entries: dict[str, ReadEntry]


def read_ckl(data: bytes, path: str = "checklist") -> dict[str, ReadEntry]:
    """A CKL's entries by Vuln ID."""
    return _read_ckl_document(data, path)[1]


def _read_ckl_document(data: bytes, path: str) -> tuple[tuple[str, str], dict[str, ReadEntry]]:
    refused = "DOCTYPE declarations are not allowed in a checklist; refusing to read it"
    root = parse_document(data, path, malformed="not a well-formed checklist", doctype=refused)
    if root.tag != "CHECKLIST":
        raise InputError(
            path, getattr(root, "sourceline", 1) or 1, f"root element is <{root.tag}>; expected <CHECKLIST> (a CKL)"
        )
    entries = {}
    for vuln in root.iter("VULN"):
        attributes = {
            item.findtext("VULN_ATTRIBUTE"): item.findtext("ATTRIBUTE_DATA") or "" for item in vuln.iter("STIG_DATA")
        }
        vuln_id = attributes.get("Vuln_Num", "")
        if not vuln_id:
            raise InputError(path, getattr(vuln, "sourceline", 0) or 0, "a VULN without a Vuln_Num")
        status, details, comments = (vuln.findtext(name) or "" for name in ("STATUS", "FINDING_DETAILS", "COMMENTS"))
        entries[vuln_id] = ReadEntry(vuln_id, attributes.get("Rule_Ver", ""), status, details, comments)
    host = (root.findtext("ASSET/HOST_NAME") or "", root.findtext("ASSET/HOST_FQDN") or "")
    return host, entries


def read_cklb(data: bytes, path: str = "checklist") -> dict[str, ReadEntry]:
    """A CKLB's entries by Vuln ID (group_id), statuses in CKL's words."""
    return _read_cklb_document(data, path)[1]


def _read_cklb_document(data: bytes, path: str) -> tuple[tuple[str, str], dict[str, ReadEntry]]:
    words = {value: key for key, value in CKLB_STATUS.items()}
    try:
        document = json.loads(data)
        host = (str(document["target_data"].get("host_name", "")), str(document["target_data"].get("fqdn", "")))
        entries = {
            str(rule["group_id"]): ReadEntry(
                str(rule["group_id"]),
                _text(rule.get("rule_version")),
                words[rule["status"]],
                _text(rule.get("finding_details")),
                _text(rule.get("comments")),
            )
            for stig in document["stigs"]
            for rule in stig["rules"]
        }
    except json.JSONDecodeError as error:
        raise InputError(path, error.lineno, f"not a CKLB (JSON): {error.msg}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise InputError(path, 0, f"not a CKLB as STIG Viewer writes it: {error!r} is missing or malformed") from None
    return host, entries


def _text(value: object) -> str:
    """A field as text: a hand-edited file may hold a number or null where STIG Viewer writes a string."""
    return "" if value is None else str(value)


def read_earlier(folder: Path) -> list[EarlierChecklist]:
    """Every CKL and CKLB under `folder`; a damaged one stops the scan, located (an assessor's work is not
    skipped silently)."""
    if not folder.is_dir():
        raise InputError(str(folder), 0, "not a folder of earlier checklists")
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".ckl", ".cklb") and p.is_file()):
        if path.stat().st_size > _MAX_BYTES:
            raise InputError(str(path), 0, f"larger than {_MAX_BYTES >> 20} MB; not a checklist of one STIG")
        data = path.read_bytes()
        reader = _read_ckl_document if path.suffix.lower() == ".ckl" else _read_cklb_document
        (host, fqdn), entries = reader(data, str(path))
        found.append(EarlierChecklist(str(path), host, fqdn, entries))
    return found


# ---------------------------------------------------------------------------------------------------------
# Merging.


@dataclass
class Changes:
    """What merging one checklist with its earlier one did, for checklist-changes.md."""

    checklist: str
    earlier: str | None
    kept: list[str] = field(default_factory=list)  # Vulns whose person's answer was kept
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (Vuln, earlier status, exaudit's)
    added: list[str] = field(default_factory=list)  # in this release, not in the earlier checklist
    removed: list[str] = field(default_factory=list)  # in the earlier checklist, not in this release


def _same_host(checklist: Checklist, earlier: EarlierChecklist) -> bool:
    name = str(checklist.server.get("Name") or checklist.server["server_key"]).lower()
    fqdn = str(checklist.server.get("Fqdn") or "").lower()
    theirs = {earlier.host_name.lower(), earlier.fqdn.lower(), earlier.fqdn.lower().split(".")[0]} - {""}
    return bool({name, fqdn} & theirs)


def earlier_for(checklist: Checklist, earlier: Sequence[EarlierChecklist]) -> EarlierChecklist | None:
    """The earlier checklist of the same host and STIG: the one sharing most Vulns, more than half of them."""
    vulns = {str(entry.control.get("vuln_id")) for entry in checklist.entries}
    candidates = [item for item in earlier if _same_host(checklist, item)]
    best = max(candidates, key=lambda item: len(vulns & set(item.entries)), default=None)
    return best if best is not None and len(vulns & set(best.entries)) * 2 > len(vulns) else None


def merged(checklist: Checklist, earlier: EarlierChecklist | None) -> tuple[Checklist, Changes]:
    """The checklist with a person's earlier answers kept where exaudit leaves them open, and what was done."""
    changes = Changes(checklist.file_stem, earlier.path if earlier else None)
    if earlier is None:
        return checklist, changes
    entries = []
    for entry in checklist.entries:
        vuln = str(entry.control.get("vuln_id"))
        before = earlier.entries.get(vuln)
        entries.append(_merge_entry(entry, before, earlier.path, changes, vuln) if before else entry)
    current = {str(entry.control.get("vuln_id")) for entry in checklist.entries}
    changes.added = sorted(current - set(earlier.entries))
    changes.removed = sorted(set(earlier.entries) - current)
    return replace(checklist, entries=tuple(entries)), changes


def _merge_entry(entry: Entry, before: ReadEntry, path: str, changes: Changes, vuln: str) -> Entry:
    if before.status not in DECIDED:
        return entry  # nobody had decided it: nothing to keep
    if entry.status == "Not_Reviewed":
        changes.kept.append(vuln)
        note = (f"Status {before.status} kept from the earlier checklist {path}: a person's answer (exaudit leaves "
                "this item Not_Reviewed).")  # fmt: skip
        return replace(entry, status=before.status, details=f"{note}\n\n{entry.details}",
                       comments=_joined(before.comments, entry.comments))  # fmt: skip
    if entry.status != before.status:
        changes.conflicts.append((vuln, before.status, entry.status))
        said = f"The earlier checklist {path} said {before.status}" + (
            f": {before.comments}" if before.comments else ""
        )
        return replace(entry, comments=_joined(said, entry.comments))
    return replace(entry, comments=_joined(before.comments, entry.comments))


def _joined(*parts: str) -> str:
    return "\n".join(dict.fromkeys(part for part in parts if part))


def changes_markdown(changes: Iterable[Changes]) -> bytes:
    """checklist-changes.md: per checklist, the earlier one it was merged with and what that did."""
    lines = ["# Checklists merged with earlier ones", ""]
    for change in changes:
        lines.append(f"## {change.checklist}")
        if change.earlier is None:
            lines += ["", "No earlier checklist of this host and STIG.", ""]
            continue
        lines += ["", f"Earlier checklist: `{change.earlier}`", ""]
        lines.append(f"- A person's answer kept where exaudit leaves the item Not_Reviewed: {_list(change.kept)}")
        conflicts = [f"{vuln} (earlier {old}, exaudit {new})" for vuln, old, new in change.conflicts]
        lines.append(f"- **Conflicts** — exaudit decides differently from the earlier answer: {_list(conflicts)}")
        lines.append(f"- Items new in this release: {_list(change.added)}")
        lines.append(f"- Items of the earlier release no longer in the STIG: {_list(change.removed)}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def _list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"
