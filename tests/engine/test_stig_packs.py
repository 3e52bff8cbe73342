"""The STIG packs hold every Vuln of their benchmark exactly once, classified as the fact table classifies it
(decided from an export, waiting for a site value, or a manual check), with the benchmark's STIG IDs and CATs; checked
against the fact table and against DISA's own XCCDF files, so a Vuln missed, duplicated or mislabelled fails here."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from analyzer.baselines.xccdf import read_xccdf
from analyzer.engine.evaluate import Evidence, evaluate_rules
from analyzer.engine.loader import Rule, load_rules
from analyzer.engine.packs import Pack, pack_rules, packaged_packs, read_pack
from analyzer.exchange.bundle import load_bundle
from analyzer.pipeline import packaged_rules

REFERENCE = Path(__file__).parents[1] / "data" / "reference"
SEVERITY = {"I": "high", "II": "medium", "III": "low"}
REMOVED_IN_V2 = {"V-259680", "V-259696"}  # in the 2019 Mailbox V1R1 XCCDF, removed from V2R3
# Where a rule needs a site value the fact table does not list: which receive connectors face the internet is the
# plan's to say (the fact table's own note for the Edge STIG), so these two wait for that list.
SITE_VALUE_TOO = {"V-259595", "V-259622"}

PACKS = {  # pack: (its table in the fact table, DISA's XCCDF file, the role it applies to)
    "stig-exchange-2019-mailbox": ("### 1a.", "U_MS_Exchange_2019_Mailbox_Server_STIG_V1R1_Manual-xccdf.xml", "Mailbox"),
    "stig-exchange-2019-edge": ("### 1b.", "U_MS_Exchange_2019_Edge_Server_STIG_V1R1_Manual-xccdf.xml", "Edge"),
    # The Edge V2R5 XCCDF has the IDs and CATs of V2R6 (the fact table's note): the latest DISA published as XCCDF.
    "stig-exchange-2016-mailbox": ("### 2a.", "U_MS_Exchange_2016_Mailbox_Server_STIG_V2R6_Manual-xccdf.xml", "Mailbox"),
    "stig-exchange-2016-edge": ("### 2b.", "U_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R5_Manual-xccdf.xml", "Edge"),
}  # fmt: skip
PRODUCTS = {"2019": ["Exchange 2019", "Exchange Server SE"], "2016": ["Exchange 2016"]}
COUNTS = {  # decided from exports, waiting for a site value, manual
    "stig-exchange-2019-mailbox": (44, 10, 12), "stig-exchange-2019-edge": (44, 12, 12),
    "stig-exchange-2016-mailbox": (45, 8, 11), "stig-exchange-2016-edge": (44, 10, 14),
}  # fmt: skip
# 2016 items whose check differs from their 2019 counterpart, or that have none: how each is decided.
KIND_2016 = {
    "V-228371": "decided", "V-228372": "decided", "V-228383": "decided", "V-228410": "decided", "V-228413": "decided",
    "V-228416": "decided", "V-221218": "decided", "V-221262": "site value", "V-221225": "manual",
    "V-221264": "decided", "V-221266": "decided", "V-221268": "decided", "V-221270": "decided",
    "V-221265": "manual", "V-221267": "manual", "V-221269": "manual",
}  # fmt: skip


def _pack(name: str) -> Pack:
    return read_pack(packaged_rules() / name)


def _rules_of(name: str) -> list[Rule]:
    """What a scan running the pack alone evaluates: its own rules and those it shares with another version's."""
    return pack_rules(_pack(name), packaged_packs(packaged_rules()))


def _fact_rows(section: str) -> dict[str, dict[str, str]]:
    """The fact table's rows of one STIG, by Vuln ID, without the rules the latest release removed."""
    text = (REFERENCE / "compliance-sources.md").read_text(encoding="utf-8")
    start = text.index(section)
    end = text.find("\n#", start + len(section))
    rows = {}
    for line in text[start:end].splitlines():
        cells = [cell.strip() for cell in line.replace("\\|", "/").split("|")[1:-1]]  # a cell may hold "\\|"
        if cells and cells[0].startswith("V-") and "removed" not in cells[0]:
            rows[cells[0]] = {"stig_id": cells[1], "cat": cells[2], "evaluable": cells[7] if len(cells) > 7 else "",
                              "counterpart": cells[3] if len(cells) == 7 else ""}  # fmt: skip
    return rows


def _expected_kind(name: str, vuln: str) -> str:
    """How the fact table says an item is decided; a 2016 item, as its 2019 counterpart unless KIND_2016 says."""
    facts = _fact_rows(PACKS[name][0])
    if vuln in KIND_2016:
        return KIND_2016[vuln]
    counterpart = facts[vuln]["counterpart"]
    if counterpart:
        section = "### 1a." if "mailbox" in name else "### 1b."
        return _expected_kind(name.replace("2016", "2019"), counterpart) if counterpart in _fact_rows(section) else ""
    expected = facts[vuln]["evaluable"]
    if expected.startswith("manual"):
        return "manual"
    if expected.startswith("needs EDSP value") or vuln in SITE_VALUE_TOO:
        return "site value"
    return "decided"


def _controls(rules: list[Rule]) -> dict[str, tuple[Rule, dict[str, object]]]:
    found: dict[str, tuple[Rule, dict[str, object]]] = {}
    for rule in rules:
        for control in rule.controls:
            vuln = str(control["vuln_id"])
            assert vuln not in found, f"{vuln} is decided by {found[vuln][0].id} and {rule.id}"
            found[vuln] = (rule, control)
    return found


@pytest.mark.parametrize("name", sorted(PACKS))
def test_every_vuln_is_in_the_pack_once_with_the_benchmarks_identifiers(name: str) -> None:
    section, xccdf, _role = PACKS[name]
    pack = _pack(name)
    controls = _controls(_rules_of(name))
    facts = _fact_rows(section)
    assert set(controls) == set(facts), "nothing missing, nothing extra"
    benchmark = {rule.vuln_id: rule for rule in read_xccdf(REFERENCE / "stig" / xccdf).rules}
    assert set(controls) == set(benchmark) - REMOVED_IN_V2
    for vuln, (_rule, control) in controls.items():
        assert (control["framework"], control["version"]) == (pack.framework, pack.version), vuln
        assert (control["id"], control["cat"]) == (facts[vuln]["stig_id"], facts[vuln]["cat"]), vuln
        assert (control["id"], control["cat"]) == (benchmark[vuln].stig_id, benchmark[vuln].cat), vuln


@pytest.mark.parametrize("name", sorted(PACKS))
def test_each_vuln_is_decided_waits_for_a_site_value_or_waits_for_a_person_as_the_fact_table_says(name: str) -> None:
    kinds: dict[str, str] = {}
    for vuln, (rule, _control) in _controls(_rules_of(name)).items():
        site_values = [p for p in rule.params.values() if p.site_value]
        kinds[vuln] = "manual" if rule.manual else "site value" if site_values else "decided"
        assert kinds[vuln] == _expected_kind(name, vuln), vuln
    counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in ("decided", "site value", "manual")}
    assert (counts["decided"], counts["site value"], counts["manual"]) == COUNTS[name]


@pytest.mark.parametrize("name", sorted(PACKS))
def test_rules_apply_to_their_role_and_version_with_the_severity_of_their_cat(name: str) -> None:
    """A pack run alone judges only its role on its own versions (2019 and SE, or 2016), at its own CATs: a rule
    shared by the 2016 and 2019 STIGs is narrowed to the pack's products and controls."""
    _section, _xccdf, role = PACKS[name]
    for rule in _rules_of(name):
        assert rule.applies_to["roles"] == [role], rule.id
        assert rule.applies_to["products"] == PRODUCTS[name.split("-")[2]], rule.id
        most_severe = min((str(c["cat"]) for c in rule.controls), key=len)  # "I" before "II" before "III"
        assert rule.severity == SEVERITY[most_severe], rule.id
        home = read_pack(Path(rule.source).parent)  # a shared rule is named after its own pack's first STIG ID
        own = [c for c in load_rules([Path(rule.source)])[0].controls if c["framework"] == home.framework]
        assert rule.id == own[0]["id"], "a rule is named after the first STIG ID it decides"


def test_a_shared_rule_is_one_check_both_stigs_ask_at_the_same_cat() -> None:
    """Every control of the other version a rule carries is the counterpart the fact table gives, at the same CAT
    (a CAT that differs makes a rule of its own, so that severity means the same for every server it judges)."""
    mapped = {
        vuln: row["counterpart"] for section in ("### 2a.", "### 2b.") for vuln, row in _fact_rows(section).items()
    }
    scanner = {"V-221265", "V-221267", "V-221269"}  # the approved third-party scanner, asked four times in 2016
    for rule in load_rules([packaged_rules()]):
        by_version = {v: [c for c in rule.controls if f" {v} " in str(c["framework"])] for v in ("2016", "2019")}
        if not (by_version["2016"] and by_version["2019"]):
            continue
        assert {str(c["cat"]) for c in by_version["2016"]} <= {str(c["cat"]) for c in by_version["2019"]}, rule.id
        for control in by_version["2016"]:
            assert control["products"] == ["Exchange 2016"], rule.id
            counterpart = mapped[str(control["vuln_id"])]
            assert counterpart in {c["vuln_id"] for c in by_version["2019"]} or control["vuln_id"] in scanner, rule.id
        for control in by_version["2019"]:
            assert control["products"] == ["Exchange 2019", "Exchange Server SE"], rule.id


def test_a_parameter_name_means_one_thing_in_every_shipped_rule() -> None:
    """A policy file's `params:` sets a name for every rule that declares it: two rules may share a name only when
    they mean the same value (same type, default and site-value status) — the Edge server's 5-minute connection
    timeout is not the Mailbox server's 10 minutes, nor its allowed services the Mailbox server's."""
    meanings: dict[str, set[tuple[str, str, bool]]] = {}
    for rule in load_rules([packaged_rules()]):
        for name, param in rule.params.items():
            meanings.setdefault(name, set()).add((param.type, repr(param.default), param.site_value))
    assert {name: sorted(found) for name, found in meanings.items() if len(found) > 1} == {}


REAL = Path(__file__).parents[1] / "data" / "real" / "microsoft__CSS-Exchange"
LAB_E19 = "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__{}.xml"


def test_the_mailbox_stig_on_real_exchange_2019_exports(tmp_path: Path) -> None:
    """A lab Exchange 2019 server as HealthChecker's test data exported it (real Export-Clixml files): the values the
    lab really has decide the items, and receive connectors exported from another machine leave the server's
    connector items not_evaluated, never passed over nothing."""
    for name in ("GetExchangeServer", "GetOrganizationConfig", "GetOwaVirtualDirectory", "GetReceiveConnector",
                 "GetSendConnector", "GetAcceptedDomain", "GetExchangeCertificate"):  # fmt: skip
        shutil.copy(REAL / LAB_E19.format(name), tmp_path)
    bundle = load_bundle([tmp_path])
    evidence = Evidence(bundle.datasets, bundle.servers, dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    results = {
        r.rule_id: r for r in evaluate_rules(load_rules([packaged_rules() / "stig-exchange-2019-mailbox"]), evidence)
    }
    outcomes = {rule_id: results[rule_id].outcome for rule_id in (
        "EX19-MB-000008",  # FormsAuthentication false in the lab
        "EX19-MB-000020",  # WindowsAuthentication false
        "EX19-MB-000063",  # ErrorReportingEnabled true
        "EX19-MB-000064",  # CustomerFeedbackEnabled true
        "EX19-MB-000132",  # the send connector's idle timeout is the default 10 minutes
        "EX19-MB-000233",  # no TlsAuthLevel on the send connector
        "EX19-MB-000232",  # the receive connectors are WIN-CTD3L0RGEN4's, not SOLO-E19A's
    )}  # fmt: skip
    assert outcomes == {"EX19-MB-000008": "pass", "EX19-MB-000020": "fail", "EX19-MB-000063": "fail",
                        "EX19-MB-000064": "fail", "EX19-MB-000132": "pass", "EX19-MB-000233": "fail",
                        "EX19-MB-000232": "not_evaluated"}  # fmt: skip
    assert "no receive_connector rows for SOLO-E19A" in str(results["EX19-MB-000232"].reason)
    assert results["EX19-MB-000008"].evaluated == 1


def test_the_cis_pack_holds_each_identified_recommendation_once_and_says_it_is_partial() -> None:
    """Every numbered recommendation of the fact table's CIS list (§3) once, with its level; the pack states that it
    is partial, and the report carries that statement beside the framework's results."""
    text = (REFERENCE / "compliance-sources.md").read_text(encoding="utf-8")
    start = text.index("## 3. CIS")
    rows = [
        [c.strip() for c in line.split("|")[1:-1]] for line in text[start : text.index("\n## 4", start)].splitlines()
    ]
    identified = {row[0]: row[1] for row in rows if row and row[0][:1].isdigit()}  # "2.1.1": "L1 Mailbox"
    rules = load_rules([packaged_rules() / "cis-exchange-2019"])
    found: dict[str, int] = {}
    for rule in rules:
        for control in rule.controls:
            assert (
                control["framework"] == "CIS Microsoft Exchange Server 2019 Benchmark"
                and control["version"] == "v1.0.0"
            )
            assert str(control["id"]) not in found, control["id"]
            found[str(control["id"])] = int(control["level"])
    assert {section: f"L{level}" for section, level in found.items()} == {
        section: profile.split()[0] for section, profile in identified.items()
    }
    pack = read_pack(packaged_rules() / "cis-exchange-2019")
    assert pack.coverage and "partial" in pack.coverage and f"{len(found)} " in pack.coverage
    assert f"{len(found)} identified items" in pack.title
