"""STIG Viewer checklists (-f ckl,cklb): valid against the real CKL and CKLB schemas, every Vuln of the STIG once per
server, the status each outcome maps to — a waiver is never a NotAFinding — with the evidence and the site values,
the STIG's own texts only from a supplied XCCDF, and the same bytes on every run; read back by exaudit's own reader."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree
from typer.testing import CliRunner

from analyzer.baselines.xccdf import read_xccdf
from analyzer.cli import app
from analyzer.errors import InputError
from analyzer.report.checklist_baseline import read_ckl, read_cklb
from analyzer.report.checklists import CKLB_STATUS

ROOT = Path(__file__).resolve().parents[2]
STIG = ROOT / "tests" / "data" / "reference" / "stig"
CKL_SCHEMA = etree.XMLSchema(etree.parse(str(STIG / "U_Checklist_Schema_V2.xsd")))
CKLB_SCHEMA = json.loads((STIG / "CKLB.schema.json").read_text(encoding="utf-8"))
MAILBOX = "EXCH01_MS_Exchange_2019_Mailbox_Server_STIG_V2R3"
EDGE = "EDGE01_MS_Exchange_2019_Edge_Server_STIG_V2R2"
EXPECTED_STATUS = {"pass": "NotAFinding", "fail": "Open", "waived": "Open", "not_applicable": "Not_Applicable",
                   "not_reviewed": "Not_Reviewed", "not_evaluated": "Not_Reviewed", "error": "Not_Reviewed"}  # fmt: skip


def _scan(tmp_path: Path, sample: str = "stig-2019", *extra: str) -> tuple[Path, dict[str, Any]]:
    bundle = tmp_path / sample
    if not bundle.exists():
        shutil.copytree(ROOT / "samples" / sample, bundle)
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    result = CliRunner().invoke(app, ["scan", str(bundle), "--policy", str(ROOT / "samples" / f"{sample}.plan.yaml"),
                                      "--as-of", "2026-11-27", "-f", "json,ckl,cklb", "--out", str(out), "--quiet",
                                      *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return _scan(tmp_path_factory.mktemp("checklists"))


def test_one_checklist_per_server_per_stig_valid_against_the_real_schemas(scanned: tuple[Path, Any]) -> None:
    out, _report = scanned
    assert sorted(p.name for p in out.glob("*.ckl*")) == [f"{EDGE}.ckl", f"{EDGE}.cklb", f"{MAILBOX}.ckl",
                                                         f"{MAILBOX}.cklb"]  # fmt: skip
    for stem in (MAILBOX, EDGE):
        document = etree.parse(str(out / f"{stem}.ckl"))
        assert CKL_SCHEMA.validate(document), CKL_SCHEMA.error_log
        assert document.findtext("ASSET/TECH_AREA") == "Exchange Server"
        assert document.findtext("ASSET/ROLE") == "Member Server"  # the Windows domain role, as the schema means it
        jsonschema.Draft7Validator(CKLB_SCHEMA).validate(json.loads((out / f"{stem}.cklb").read_text("utf-8")))


def test_every_vuln_once_with_the_status_of_the_servers_own_outcome(scanned: tuple[Path, Any]) -> None:
    out, report = scanned
    views = {view["framework"]: view for view in report["frameworks"]}
    results = {result["rule_id"]: result for result in report["results"]}
    for stem, framework, server in ((MAILBOX, "DISA STIG Microsoft Exchange 2019 Mailbox Server", "EXCH01"),
                                    (EDGE, "DISA STIG Microsoft Exchange 2019 Edge Server", "EDGE01")):  # fmt: skip
        entries = read_ckl((out / f"{stem}.ckl").read_bytes())
        controls = {c["vuln_id"]: c for c in views[framework]["controls"]}
        assert set(entries) == set(controls)  # every Vuln of the STIG, once (a dict would hide a second one)
        assert len(etree.parse(str(out / f"{stem}.ckl")).findall(".//VULN")) == len(controls)
        for vuln, entry in entries.items():
            outcomes = [results[rule]["servers"][server] for rule in controls[vuln]["rules"]]
            assert entry.status == EXPECTED_STATUS[min(outcomes, key=_severity)], vuln
            assert entry.stig_id == controls[vuln]["id"]
        assert read_cklb((out / f"{stem}.cklb").read_bytes()) == entries  # the same answers in both formats
    statuses = Counter(entry.status for entry in read_ckl((out / f"{MAILBOX}.ckl").read_bytes()).values())
    assert statuses == {"NotAFinding": 33, "Open": 16, "Not_Reviewed": 17}  # as the framework view counts them


def _severity(outcome: str) -> int:
    return ["error", "fail", "waived", "not_evaluated", "not_reviewed", "pass", "not_applicable"].index(outcome)


def test_finding_details_and_comments_carry_the_evidence_and_the_site_values(scanned: tuple[Path, Any]) -> None:
    out, report = scanned
    entries = read_ckl((out / f"{MAILBOX}.ckl").read_bytes())
    tls = entries["V-259710"]  # CAT I: a receive connector without TLS on EXCH01
    assert tls.status == "Open"
    digest = next(
        item["sha256"] for item in report["inputs"] if item["path"].endswith("EXCH01/Get-ReceiveConnector.xml")
    )
    assert "Scanner Relay: AuthMechanism=Integrated [fail]" in tls.details
    assert "stig-2019/EXCH01/Get-ReceiveConnector.xml:" in tls.details and digest in tls.details
    assert "exaudit 0.1.0 found this to be OPEN on 2026-11-27" in tls.details
    build = entries["V-259711"]  # the approved build comes from the plan
    assert "Site value approved_build = 15.2.1544.4 (from the site plan Contoso Email Domain Security Plan 3.1)." in (
        build.comments
    )
    waiting = entries["V-259672"]  # forwarding: the plan gives no authorised forwarders
    assert waiting.status == "Not_Reviewed" and "needs the site's value for authorised_forwarders" in waiting.details


def test_a_waiver_stays_open_with_its_risk_acceptance(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - rule: EX19-MB-000236\n    server: EXCH01\n    object: Scanner Relay\n"
                       "    reason: the scanner cannot do TLS until its firmware update\n    ticket: CHG-4711\n"
                       "    approved_by: J. Doe (ISSM)\n    expires: \"2027-03-31\"\n", encoding="utf-8")  # fmt: skip
    out, report = _scan(tmp_path, "stig-2019", "--waivers", str(waivers))
    result = next(r for r in report["results"] if r["rule_id"] == "EX19-MB-000236")
    assert result["outcome"] == "waived"
    entry = read_ckl((out / f"{MAILBOX}.ckl").read_bytes())["V-259710"]
    assert entry.status == "Open"  # accepted, not fixed: never a NotAFinding
    assert "Risk accepted, still Open (waiver W1, ticket CHG-4711, approved by J. Doe (ISSM), expires 2027-03-31)" in (
        entry.comments
    )
    assert read_cklb((out / f"{MAILBOX}.cklb").read_bytes())["V-259710"].status == "Open"


def test_not_applicable_with_its_justification(tmp_path: Path) -> None:
    out, _report = _scan(tmp_path, "stig-2019", "--param", "network=sipr")
    entry = read_ckl((out / f"{MAILBOX}.ckl").read_bytes())["V-259651"]  # not applicable on SIPRNet
    assert entry.status == "Not_Applicable"
    assert "Reason: not applicable" in entry.details and "Site value network = sipr (from command line)." in (
        entry.comments
    )  # the justification: the site's value that makes it not applicable, and where it came from


def test_the_stigs_own_texts_come_only_from_a_supplied_xccdf(tmp_path: Path, scanned: tuple[Path, Any]) -> None:
    out, _report = scanned
    without = etree.parse(str(out / f"{MAILBOX}.ckl"))
    assert "scan with --xccdf" in _attribute(without, "V-259645", "Check_Content")
    xccdf = STIG / "U_MS_Exchange_2019_Mailbox_Server_STIG_V1R1_Manual-xccdf.xml"
    official = read_xccdf(xccdf).by_vuln()["V-259645"]
    with_texts, _ = _scan(tmp_path, "stig-2019", "--xccdf", str(xccdf))
    document = etree.parse(str(with_texts / f"{MAILBOX}.ckl"))
    assert CKL_SCHEMA.validate(document), CKL_SCHEMA.error_log
    assert _attribute(document, "V-259645", "Check_Content") == official.check
    assert _attribute(document, "V-259645", "Fix_Text") == official.fix
    assert _attribute(document, "V-259645", "Rule_ID") == official.rule_id
    # The 2019 Edge STIG's Vulns are not in the Mailbox XCCDF: its checklist keeps exaudit's summary.
    assert "scan with --xccdf" in _attribute(etree.parse(str(with_texts / f"{EDGE}.ckl")), "V-259577", "Check_Content")


def _attribute(document: Any, vuln: str, name: str) -> str:
    for item in document.iter("VULN"):
        data = {d.findtext("VULN_ATTRIBUTE"): d.findtext("ATTRIBUTE_DATA") or "" for d in item.iter("STIG_DATA")}
        if data["Vuln_Num"] == vuln:
            return str(data[name])
    raise AssertionError(f"{vuln} not in the checklist")


def test_the_same_scan_writes_the_same_checklists(tmp_path: Path, scanned: tuple[Path, Any]) -> None:
    out, _report = scanned
    again, _ = _scan(tmp_path)
    for path in out.glob("*.ckl*"):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_2016_server_gets_the_2016_stig(tmp_path: Path) -> None:
    out, _report = _scan(tmp_path, "stig-2016", "--marking", "CUI")
    names = sorted(p.name for p in out.glob("*.ckl"))
    assert names == ["EDGE01_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R6.ckl",
                     "EXCH01_MS_Exchange_2016_Mailbox_Server_STIG_V2R6.ckl"]  # fmt: skip
    document = etree.parse(str(out / names[1]))
    assert CKL_SCHEMA.validate(document), CKL_SCHEMA.error_log
    assert document.findtext("ASSET/MARKING") == "CUI"
    entries = read_ckl((out / names[1]).read_bytes())
    assert len(entries) == 64 and entries["V-228413"].status == "Open"  # the Malware Agent the 2016 STIG wants off
    assert set(CKLB_STATUS) >= {entry.status for entry in entries.values()}


def test_checklists_are_written_only_for_a_stig_the_scan_ran(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "samples" / "mistakes-2016", tmp_path / "bundle")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "bundle"), "-f", "json,ckl", "--out",
                                      str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not list((tmp_path / "out").glob("*.ckl"))  # the POP3/IMAP4 pack is no STIG


def test_a_control_character_from_an_export_cannot_break_the_xml() -> None:
    from analyzer.report.checklists import Checklist, Entry, ckl_bytes

    entry = Entry({"vuln_id": "V-1", "id": "X-1", "cat": "II"}, ("R",), "t\x1b", "Open", "bad\x00value\x07", "")
    checklist = Checklist({"server_key": "S1", "Name": "S1"}, "DISA STIG Test", "V1R1", (entry,), "2026-11-27")
    read = read_ckl(ckl_bytes(checklist))
    assert read["V-1"].details == "bad<U+0000>value<U+0007>"


def _edit_ckl(path: Path, changes: dict[str, tuple[str, str]], *, drop: str, add: str, host: str) -> None:
    """What an assessor does in STIG Viewer: set statuses and comments; plus another release's Vulns."""
    document: Any = etree.parse(str(path))  # an edit in place, as STIG Viewer saves it
    document.find("ASSET/HOST_NAME").text = host  # matched by FQDN then
    stig = document.find(".//iSTIG")
    for vuln in list(stig.iter("VULN")):
        number = vuln.findtext("STIG_DATA/ATTRIBUTE_DATA")
        if number in changes:
            vuln.find("STATUS").text, vuln.find("COMMENTS").text = changes[number]
        if number == drop:
            stig.remove(vuln)
        elif number == "V-259659":
            extra: Any = etree.fromstring(etree.tostring(vuln))
            extra.find("STIG_DATA/ATTRIBUTE_DATA").text = add
            stig.append(extra)
    document.write(str(path), xml_declaration=True, encoding="UTF-8")


def test_an_assessors_earlier_answers_are_kept_and_conflicts_listed(tmp_path: Path) -> None:
    first, _report = _scan(tmp_path)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copy(first / f"{MAILBOX}.ckl", earlier)
    shutil.copy(first / f"{EDGE}.cklb", earlier)
    _edit_ckl(earlier / f"{MAILBOX}.ckl", {
        "V-259659": ("NotAFinding", "Queue monitor MON-7 in SCOM, checked by J. Doe"),  # manual: exaudit leaves it
        "V-259710": ("NotAFinding", "the relay is on an isolated VLAN"),  # exaudit finds it Open
    }, drop="V-259645", add="V-259680", host="exch01-old")  # fmt: skip
    edge = json.loads((earlier / f"{EDGE}.cklb").read_text(encoding="utf-8"))
    queue = next(r for r in edge["stigs"][0]["rules"] if r["group_id"] == "V-259584")
    queue.update(status="not_applicable", comments="a third-party monitor covers the queues")
    (earlier / f"{EDGE}.cklb").write_text(json.dumps(edge), encoding="utf-8")

    again, _ = _scan(tmp_path, "stig-2019", "--checklist-baseline", str(earlier))
    entries = read_ckl((again / f"{MAILBOX}.ckl").read_bytes())
    kept = entries["V-259659"]
    assert kept.status == "NotAFinding" and "Queue monitor MON-7 in SCOM" in kept.comments
    assert "kept from the earlier checklist" in kept.details
    conflict = entries["V-259710"]
    assert conflict.status == "Open"  # exaudit decides it: its status stands, the person's answer stays visible
    assert "said NotAFinding: the relay is on an isolated VLAN" in conflict.comments
    assert read_cklb((again / f"{EDGE}.cklb").read_bytes())["V-259584"].status == "Not_Applicable"
    assert CKL_SCHEMA.validate(etree.parse(str(again / f"{MAILBOX}.ckl")))
    changes = (again / "checklist-changes.md").read_text(encoding="utf-8")
    assert "V-259710 (earlier NotAFinding, exaudit Open)" in changes
    assert "Items new in this release: V-259645" in changes
    assert "no longer in the STIG: V-259680" in changes
    assert "Not_Reviewed: V-259659" in changes


def test_an_earlier_cklb_with_odd_field_types_is_read_as_text() -> None:
    from analyzer.report.checklist_baseline import read_cklb

    data = b'{"target_data": {"host_name": 5}, "stigs": [{"rules": [{"group_id": "V-1", "status": "open", ' \
           b'"rule_version": 7, "comments": 12, "finding_details": null}]}]}'  # fmt: skip
    entry = read_cklb(data)["V-1"]
    assert (entry.status, entry.stig_id, entry.comments, entry.details) == ("Open", "7", "12", "")
    with pytest.raises(InputError, match="not a CKLB as STIG Viewer writes it"):
        read_cklb(b'{"target_data": {}, "stigs": [{"rules": [{"group_id": "V-1", "status": ["open"]}]}]}')


def test_a_damaged_earlier_checklist_stops_the_scan_located(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "EXCH01.ckl").write_text("<CHECKLIST><ASSET>\n<HOST_NAME>EXCH01</HOST_NAME>\n", encoding="utf-8")
    (earlier / "hostile.ckl").write_text('<!DOCTYPE x [<!ENTITY a "b">]><CHECKLIST/>', encoding="utf-8")
    shutil.copytree(ROOT / "samples" / "stig-2019", tmp_path / "bundle")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "bundle"), "-f", "ckl", "--checklist-baseline",
                                      str(earlier), "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2
    assert f"{earlier / 'EXCH01.ckl'}:3: not a well-formed checklist" in result.output.replace("\n", "")
    (earlier / "EXCH01.ckl").unlink()
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "bundle"), "-f", "ckl", "--checklist-baseline",
                                      str(earlier), "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2 and "DOCTYPE" in result.output


def test_patch_currency_is_evidence_beside_the_approved_build_decision(tmp_path: Path) -> None:
    plain, _ = _scan(tmp_path)
    out, _report = _scan(tmp_path, "stig-2019", "--pack", "patch-currency")
    before = read_ckl((plain / f"{MAILBOX}.ckl").read_bytes())["V-259711"]
    entry = read_ckl((out / f"{MAILBOX}.ckl").read_bytes())["V-259711"]  # the latest approved build
    assert entry.status == before.status  # the site's decision stands: patch currency never decides it
    assert "Patch currency (evidence for the approved-build decision" in entry.details
    assert "- PC-CU-001 Every server runs a cumulative update that still gets security updates: pass" in entry.details
    assert "Patch currency" not in read_ckl((out / f"{MAILBOX}.ckl").read_bytes())["V-259645"].details
