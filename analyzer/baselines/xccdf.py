"""DISA STIG benchmarks as published: an XCCDF 1.1 file, or the zip DISA distributes it in.

What a checklist and a coverage test need from it: the benchmark's id, title, version and release (`V2R3`) and
benchmark date, and per Vuln its Group id (`V-259645`), Rule id (`SV-259645r942249_rule`), STIG id
(`EX19-MB-000006`), severity and CAT, title, check and fix texts. The official wording is used only from a file
the user supplies; exaudit's own rules word things themselves.

Read with the same hardening as every XML input: no DTD, no entity expansion, no network, and a DOCTYPE refused.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from analyzer.errors import InputError
from analyzer.safe_xml import parse_document

_NS = {"x": "http://checklists.nist.gov/xccdf/1.1"}
_CAT = {"high": "I", "medium": "II", "low": "III"}
_RELEASE = re.compile(r"Release:\s*(\d+)\s+Benchmark Date:\s*(.+?)\s*$")
_MAX_BYTES = 64 << 20  # a STIG's XCCDF is a few hundred KB


@dataclass(frozen=True)
class StigRule:
    vuln_id: str
    rule_id: str
    stig_id: str
    severity: str
    cat: str
    title: str
    check: str
    fix: str


@dataclass(frozen=True)
class Benchmark:
    id: str
    title: str
    version: str  # `V1R1`: the benchmark's version and its release
    date: str  # as the benchmark writes it, e.g. `17 Jan 2024`
    rules: tuple[StigRule, ...]

    def by_vuln(self) -> dict[str, StigRule]:
        return {rule.vuln_id: rule for rule in self.rules}


def read_xccdf(path: Path) -> Benchmark:
    """A benchmark from an XCCDF file or from a zip holding one (DISA's download)."""
    data = _xccdf_bytes(path)
    root = parse_document(data, str(path), malformed="not well-formed XML",
                          doctype="a DOCTYPE is refused: an XCCDF benchmark has none")  # fmt: skip
    if etree.QName(root).localname != "Benchmark" or etree.QName(root).namespace != _NS["x"]:
        raise InputError(str(path), _line(root) or 1, "expected an XCCDF 1.1 <Benchmark>")
    release, date = _release_info(root)
    version = f"V{_text(root, 'x:version')}R{release}" if release else _text(root, "x:version")
    return Benchmark(root.get("id", ""), _text(root, "x:title"), version, date, _rules(root, path))


def _xccdf_bytes(path: Path) -> bytes:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [i for i in archive.infolist() if i.filename.lower().endswith("xccdf.xml")]
                if len(members) != 1:
                    raise InputError(str(path), 0, f"expected one *xccdf.xml in the zip, found {len(members)}")
                if members[0].file_size > _MAX_BYTES:
                    raise InputError(str(path), 0, f"{members[0].filename} is larger than an XCCDF benchmark can be")
                return archive.read(members[0])
        if path.stat().st_size > _MAX_BYTES:
            raise InputError(str(path), 0, "larger than an XCCDF benchmark can be")
        return path.read_bytes()
    except (OSError, zipfile.BadZipFile) as error:
        raise InputError(str(path), 0, f"cannot be read: {error}") from None


def _all_text(element: etree._Element) -> str:
    return "".join(str(piece) for piece in element.itertext()).strip()


def _line(element: etree._Element) -> int:
    return int(getattr(element, "sourceline", 0) or 0)


def _text(element: etree._Element, query: str) -> str:
    found = element.find(query, _NS)
    return "" if found is None else _all_text(found)


def _release_info(root: etree._Element) -> tuple[str, str]:
    info = root.find("x:plain-text[@id='release-info']", _NS)
    match = _RELEASE.match(_all_text(info)) if info is not None else None
    return (match.group(1), match.group(2)) if match else ("", "")


def _rules(root: etree._Element, path: Path) -> tuple[StigRule, ...]:
    rules = []
    for group in root.iterfind("x:Group", _NS):
        rule = group.find("x:Rule", _NS)
        if rule is None:
            raise InputError(str(path), _line(group), f"Group {group.get('id')} holds no Rule")
        severity = rule.get("severity", "")
        rules.append(StigRule(
            vuln_id=group.get("id", ""),
            rule_id=rule.get("id", ""),
            stig_id=_text(rule, "x:version"),
            severity=severity,
            cat=_CAT.get(severity, ""),
            title=_text(rule, "x:title"),
            check=_text(rule, "x:check/x:check-content"),
            fix=_text(rule, "x:fixtext"),
        ))  # fmt: skip
    return tuple(rules)
