"""STIG Viewer checklists from a scan: one per server per STIG, as CKL (STIG Viewer 2.x, XML) and CKLB (3.x, JSON).

What an assessor files at the end of an air-gapped STIG audit. Each Vuln of the STIG is one entry, with the status
exaudit's outcome for that server maps to — pass NotAFinding, fail Open, a **waived** failure Open with its risk
acceptance in the comments (a waiver is never a NotAFinding), not_applicable Not_Applicable with the reason, and
everything undecided (not_reviewed, not_evaluated, error) Not_Reviewed with the reason. Finding details carry what
was observed and expected, the source file and line, the input's SHA-256, exaudit's version and the evaluation date;
the comments name the site values the rule used and where each came from.

The STIG's own check and fix texts come only from an XCCDF file the user supplies (`--xccdf`, DISA's download);
without one those fields carry exaudit's short title and say so. Identifiers (UUIDs) are derived from the host, the
STIG and the Vuln, so the same scan writes the same bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from analyzer import __version__
from analyzer.baselines.xccdf import Benchmark, StigRule
from analyzer.engine.evaluate import resolve_params
from analyzer.engine.loader import Rule
from analyzer.model import worst

FORMATS = ("ckl", "cklb")
CKL_STATUS = {"pass": "NotAFinding", "fail": "Open", "waived": "Open", "not_applicable": "Not_Applicable"}
CKLB_STATUS = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
               "Not_Reviewed": "not_reviewed"}  # fmt: skip
_SEVERITY = {"I": "high", "II": "medium", "III": "low"}
_VERSION = re.compile(r"^V(\d+)R(\d+)$")
_NAMESPACE = uuid.UUID("6f1f7c52-3b8e-4d55-9a3c-5e1d2a7b9c10")  # exaudit's own: checklist identifiers
MAX_FINDINGS = 25  # per entry in the finding details; report.json has them all
_NO_XCCDF = "(exaudit's summary; the STIG's own text comes from its XCCDF file: scan with --xccdf)"


@dataclass(frozen=True)
class Entry:
    """One Vuln of one server's checklist."""

    control: dict[str, Any]
    rules: tuple[str, ...]
    title: str
    status: str  # CKL's word
    details: str
    comments: str


@dataclass(frozen=True)
class Checklist:
    server: dict[str, Any]
    framework: str
    version: str  # the STIG's version and release, `V2R3`
    entries: tuple[Entry, ...]
    as_of: str  # the evaluation date

    @property
    def stig_id(self) -> str:
        """The STIG's name as DISA spells it in its files: `MS_Exchange_2019_Mailbox_Server_STIG`."""
        name = self.framework.removeprefix("DISA STIG ").replace("Microsoft ", "MS ")
        return re.sub(r"\W+", "_", name).strip("_") + "_STIG"

    @property
    def file_stem(self) -> str:
        """`HOST_STIG_VxRy`, as assessors name checklists."""
        host = re.sub(r"[^\w.-]+", "_", str(self.server.get("Name") or self.server["server_key"]))
        return f"{host}_{self.stig_id}_{self.version}"


# ---------------------------------------------------------------------------------------------------------
# From a report to checklists.


def checklists(report: Mapping[str, Any], rules: Sequence[Rule]) -> list[Checklist]:
    """A checklist per server per DISA STIG the scan ran: the servers each STIG's rules judged."""
    results = {result["rule_id"]: result for result in report["results"]}
    servers = {server["server_key"]: server for server in report["servers"]}
    by_rule = {rule.id: rule for rule in rules}
    context = _Context(report, by_rule)
    made = []
    for view in report.get("frameworks", []):
        if not str(view["framework"]).startswith("DISA STIG"):
            continue
        judged = sorted({server for control in view["controls"] for rule_id in control["rules"]
                         for server in _servers_of(results[rule_id], control, servers)})  # fmt: skip
        for key in judged:
            entries = tuple(context.entry(control, [results[r] for r in control["rules"]], key)
                            for control in sorted(view["controls"], key=_vuln_order))  # fmt: skip
            made.append(Checklist(servers[key], view["framework"], view["version"], entries, context.as_of))
    return made


def _servers_of(result: Mapping[str, Any], control: Mapping[str, Any], servers: Mapping[str, Any]) -> list[str]:
    """The servers a rule judged for this control: of its products, where the control names them."""
    wanted = control.get("products")
    judged = [key for key in result.get("servers", {}) if key in servers]
    return [key for key in judged if not wanted or servers[key].get("product") in wanted]


def _vuln_order(control: Mapping[str, Any]) -> tuple[int, str]:
    number = re.sub(r"\D", "", str(control.get("vuln_id", "")))
    return (int(number) if number else 0, str(control["id"]))


class _Context:
    """What every entry draws on: the inputs' hashes, the waivers, the site values and their sources."""

    def __init__(self, report: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
        self.report = report
        self.rules = rules
        self.hashes = {item["path"]: item.get("sha256", "") for item in report["inputs"]}
        self.waivers = {waiver["id"]: waiver for waiver in report.get("waivers", [])}
        self.as_of = str(report.get("as_of", ""))[:10]

    def entry(self, control: dict[str, Any], results: list[Mapping[str, Any]], server: str) -> Entry:
        own = [(result, result.get("servers", {}).get(server) or result["outcome"]) for result in results]
        outcome = worst(outcome for _result, outcome in own)
        status = CKL_STATUS.get(outcome, "Not_Reviewed")
        title = next((str(self.rules[r["rule_id"]].title) for r in results if r["rule_id"] in self.rules), "")
        details = [f"exaudit {__version__} found this to be {_said(status, outcome)} on {self.as_of} (the evaluation "
                   f"date), for {server}."]  # fmt: skip
        comments: list[str] = []
        for result, result_outcome in own:
            details.append("")
            details.extend(self._evidence(result, result_outcome, server))
            comments.extend(self._waivers(result, server))
            comments.extend(self._site_values(result["rule_id"]))
        if any("approved_build" in getattr(self.rules.get(r["rule_id"]), "params", {}) for r in results):
            details.extend(self._patch_currency(server))
        return Entry(control, tuple(r["rule_id"] for r in results), title, status, "\n".join(details).strip(),
                     "\n".join(dict.fromkeys(comments)))  # fmt: skip

    def _evidence(self, result: Mapping[str, Any], outcome: str, server: str) -> list[str]:
        lines = [f"Rule {result['rule_id']}: {result['title']} — {outcome} for {server}."]
        if result.get("reason") and outcome not in ("pass", "fail", "waived"):
            lines.append(f"Reason: {result['reason']}")
        findings = [f for f in result["findings"] if f["server"] in (server, None)]
        if findings:
            lines.append(f"Expected: {findings[0]['expected']}")
        for finding in findings[:MAX_FINDINGS]:
            source = finding["source"]
            where = f"{source['file']}:{source['line']}" if source.get("file") else "no source file"
            digest = self.hashes.get(source.get("file") or "", "")
            lines.append(f"- {finding['object']}: {finding['observed']} [{finding['outcome']}] ({where}"
                         + (f", SHA-256 {digest}" if digest else "") + ")")  # fmt: skip
        if len(findings) > MAX_FINDINGS:
            lines.append(f"- … and {len(findings) - MAX_FINDINGS} more in report.json")
        if outcome == "pass" and not findings:
            lines.append(f"No finding for {server}: every object the rule judged passed ({result['evaluated']} in "
                         "the bundle).")  # fmt: skip
        return lines

    def _patch_currency(self, server: str) -> list[str]:
        """For the items about an approved build (a site decision): what the patch-currency rules found on this
        server, as evidence beside the decision, never in its place."""
        lines = []
        for result in self.report["results"]:
            rule = self.rules.get(result["rule_id"])
            if rule is None or "patch-currency" not in rule.tags or server not in result.get("servers", {}):
                continue
            found = [f"{f['observed']}" for f in result["findings"] if f["server"] in (server, None)][:3]
            lines.append(f"- {result['rule_id']} {rule.title}: {result['servers'][server]}"
                         + (f" ({'; '.join(found)})" if found else ""))  # fmt: skip
        if not lines:
            return []
        return ["", "Patch currency (evidence for the approved-build decision, which stays the site's):", *lines]

    def _waivers(self, result: Mapping[str, Any], server: str) -> list[str]:
        said = []
        for finding in result["findings"]:
            waiver = self.waivers.get(finding.get("waiver") or "")
            if waiver is None or finding["server"] not in (server, None):
                continue
            parts = [f"waiver {waiver['id']}", f"ticket {waiver['ticket']}" if waiver.get("ticket") else None,
                     f"approved by {waiver['approved_by']}" if waiver.get("approved_by") else None,
                     f"expires {waiver['expires']}" if waiver.get("expires") else None]  # fmt: skip
            said.append(f"Risk accepted, still Open ({', '.join(p for p in parts if p)}) for {finding['object']}: "
                        f"{waiver['reason']}")  # fmt: skip
        return said

    def _site_values(self, rule_id: str) -> list[str]:
        """Each parameter's value as the rule used it (resolve_params: the rule's own name first, then the shared
        one, then the default), and where it came from."""
        rule = self.rules.get(rule_id)
        if rule is None or not rule.params:
            return []
        given, sources = self.report.get("params", {}), self.report.get("param_sources", {})
        plan = self.report.get("site_plan") or {}
        used = resolve_params(rule, given)
        lines = []
        for name in sorted(rule.params):
            key = next((key for key in (f"{rule_id}.{name}", name) if key in given), None)
            if key is None:
                shown = "none: waits for the site's value" if used[name] is None else _plain(used[name])
                lines.append(f"Site value {name} = {shown} (the rule's default).")
                continue
            source = sources.get(key, "given")
            if source == "policy" and plan:
                source = f"the site plan {plan.get('name', '')} {plan.get('version', '')}".strip()
            lines.append(f"Site value {name} = {_plain(used[name])} (from {source}).")
        return lines


def _plain(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


_UNDECIDED = {
    "not_reviewed": "it waits for a person or a site value",
    "not_evaluated": "the exports do not decide it",
    "error": "the rule could not run",
}


def _said(status: str, outcome: str) -> str:
    words = {"NotAFinding": "NOT A FINDING", "Open": "OPEN", "Not_Applicable": "NOT APPLICABLE"}
    return words.get(status, f"NOT REVIEWED ({_UNDECIDED.get(outcome, outcome)})")


# ---------------------------------------------------------------------------------------------------------
# Writing them.


def _stig_info(checklist: Checklist, benchmark: Benchmark | None) -> dict[str, str]:
    match = _VERSION.match(checklist.version)
    version, release = (match.group(1), match.group(2)) if match else (checklist.version, "")
    date = (
        f" Benchmark Date: {benchmark.date}" if benchmark is not None and benchmark.version == checklist.version else ""
    )
    return {
        "version": version,
        "classification": "UNCLASSIFIED",
        "stigid": benchmark.id if benchmark is not None else checklist.stig_id,
        "description": "",
        "filename": f"U_{checklist.stig_id}_{checklist.version}_Manual-xccdf.xml",
        "releaseinfo": f"Release: {release}{date}",
        "title": benchmark.title if benchmark is not None else checklist.framework.removeprefix("DISA STIG "),
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{checklist.stig_id}/{checklist.version}")),
        "notice": "terms-of-use",
        "source": "STIG.DOD.MIL",
    }


def _texts(entry: Entry, official: StigRule | None) -> dict[str, str]:
    """The Vuln's descriptive fields: DISA's where an XCCDF was given, exaudit's short title otherwise."""
    control = entry.control
    if official is not None:
        return {"rule_id": official.rule_id, "title": official.title, "check": official.check, "fix": official.fix}
    return {"rule_id": str(control.get("rule_id") or ""), "title": entry.title, "check": _NO_XCCDF, "fix": _NO_XCCDF}


def ckl_bytes(checklist: Checklist, benchmark: Benchmark | None = None, marking: str | None = None) -> bytes:
    """The checklist as STIG Viewer 2.x reads it (U_Checklist_Schema_V2.xsd)."""
    root = etree.Element("CHECKLIST")
    root.addprevious(etree.Comment(f" written by exaudit {__version__} "))
    asset = etree.SubElement(root, "ASSET")
    host = checklist.server
    fields = [("ROLE", "Member Server"), ("ASSET_TYPE", "Computing"), *([("MARKING", marking)] if marking else []),
              ("HOST_NAME", str(host.get("Name") or host["server_key"])), ("HOST_IP", ""), ("HOST_MAC", ""),
              ("HOST_FQDN", str(host.get("Fqdn") or "")), ("TECH_AREA", "Exchange Server"), ("TARGET_KEY", ""),
              ("WEB_OR_DATABASE", "false"), ("WEB_DB_SITE", ""), ("WEB_DB_INSTANCE", "")]  # fmt: skip
    for name, value in fields:
        etree.SubElement(asset, name).text = value
    stig = etree.SubElement(etree.SubElement(root, "STIGS"), "iSTIG")
    info = etree.SubElement(stig, "STIG_INFO")
    for name, value in _stig_info(checklist, benchmark).items():
        item = etree.SubElement(info, "SI_DATA")
        etree.SubElement(item, "SID_NAME").text = name
        etree.SubElement(item, "SID_DATA").text = value
    official = benchmark.by_vuln() if benchmark is not None else {}
    for entry in checklist.entries:
        vuln = etree.SubElement(stig, "VULN")
        texts = _texts(entry, official.get(str(entry.control.get("vuln_id"))))
        reference = f"{checklist.framework.removeprefix('DISA STIG ')} :: {checklist.version}"
        attributes = [
            ("Vuln_Num", entry.control.get("vuln_id", "")),
            ("Severity", _SEVERITY.get(str(entry.control.get("cat")), "medium")),
            ("Group_Title", ""),
            ("Rule_ID", texts["rule_id"]),
            ("Rule_Ver", entry.control["id"]),
            ("Rule_Title", texts["title"]),
            ("Check_Content", texts["check"]),
            ("Fix_Text", texts["fix"]),
            ("STIGRef", reference),
        ]
        for name, value in attributes:
            data = etree.SubElement(vuln, "STIG_DATA")
            etree.SubElement(data, "VULN_ATTRIBUTE").text = name
            etree.SubElement(data, "ATTRIBUTE_DATA").text = _xml_text(str(value))
        for name, value in (("STATUS", entry.status), ("FINDING_DETAILS", entry.details), ("COMMENTS", entry.comments),
                            ("SEVERITY_OVERRIDE", ""), ("SEVERITY_JUSTIFICATION", "")):  # fmt: skip
            etree.SubElement(vuln, name).text = _xml_text(value)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters: show them instead (a value from an export may carry any)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"<U+{ord(m.group()):04X}>", text)


def cklb_bytes(checklist: Checklist, benchmark: Benchmark | None = None, marking: str | None = None) -> bytes:
    """The checklist as STIG Viewer 3.x reads it (CKLB). The schema the issue names is Evaluate-STIG's, whose
    members it requires (`evaluate-stig`): exaudit fills them with its own name and version."""
    info = _stig_info(checklist, benchmark)
    stig_uuid = info["uuid"]
    host = checklist.server
    official = benchmark.by_vuln() if benchmark is not None else {}
    rules = []
    for entry in checklist.entries:
        vuln = str(entry.control.get("vuln_id", ""))
        texts = _texts(entry, official.get(vuln))
        rules.append({
            "group_id_src": vuln, "group_tree": [{"id": vuln, "title": "", "description": ""}], "group_id": vuln,
            "severity": _SEVERITY.get(str(entry.control.get("cat")), "medium"), "group_title": "",
            "rule_id_src": texts["rule_id"], "rule_id": texts["rule_id"].removesuffix("_rule"),
            "rule_version": entry.control["id"], "rule_title": texts["title"], "fix_text": texts["fix"],
            "weight": "10.0",
            "check_content": texts["check"], "check_content_ref": {"href": "", "name": "M"}, "classification": "",
            "discussion": "", "false_positives": "", "false_negatives": "", "documentable": "false",
            "security_override_guidance": "", "potential_impacts": "", "third_party_tools": "", "ia_controls": "",
            "responsibility": "", "mitigations": "", "mitigation_control": "", "legacy_ids": [], "ccis": [],
            "reference_identifier": "", "uuid": str(uuid.uuid5(_NAMESPACE, f"{checklist.file_stem}/{vuln}")),
            "stig_uuid": stig_uuid, "status": CKLB_STATUS[entry.status], "overrides": {},
            "comments": entry.comments, "finding_details": entry.details,
        })  # fmt: skip
    document = {
        "evaluate-stig": {"version": f"exaudit {__version__}"},
        "title": checklist.file_stem,
        "id": str(uuid.uuid5(_NAMESPACE, checklist.file_stem)),
        "stigs": [
            {
                "evaluate-stig": {"time": checklist.as_of, "module": {"name": "exaudit", "version": __version__}},
                "stig_name": info["title"],
                "display_name": info["title"],
                "stig_id": info["stigid"],
                "release_info": info["releaseinfo"],
                "version": info["version"],
                "uuid": stig_uuid,
                "reference_identifier": "",
                "size": len(rules),
                "rules": rules,
            }
        ],
        "active": False,
        "mode": 1,
        "has_path": True,
        "target_data": {
            "target_type": "Computing",
            "host_name": str(host.get("Name") or host["server_key"]),
            "ip_address": "",
            "mac_address": "",
            "fqdn": str(host.get("Fqdn") or ""),
            "comments": marking or "",
            "role": "Member Server",
            "is_web_database": False,
            "technology_area": "Exchange Server",
            "web_db_site": "",
            "web_db_instance": "",
        },
        "cklb_version": "1.0",
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def matching_benchmark(checklist: Checklist, benchmarks: Sequence[Benchmark]) -> Benchmark | None:
    """The supplied XCCDF that holds most of the checklist's Vulns (more than half), else none."""
    vulns = {str(entry.control.get("vuln_id")) for entry in checklist.entries}
    best = max(benchmarks, key=lambda b: len(vulns & set(b.by_vuln())), default=None)
    return best if best is not None and len(vulns & set(best.by_vuln())) * 2 > len(vulns) else None
