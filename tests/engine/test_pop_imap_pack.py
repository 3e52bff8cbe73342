"""The POP3/IMAP4 pack end to end: verdicts on the sample bundles and on the real Exchange 2016 and 2019 exports."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzer.engine.loader import load_rules
from analyzer.engine.verdicts import DatasetHealth, answers, compute_verdicts
from analyzer.model import Finding, RuleResult
from analyzer.pipeline import ScanOptions, scan
from analyzer.report.json_report import build
from tests.conftest import CSS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
AS_OF = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def _scan(*paths: Path, **params: str) -> Any:
    return scan(ScanOptions(list(paths), params=dict(params), as_of=AS_OF))


def _status(result: Any) -> dict[str, str]:
    return {protocol: verdict["status"] for protocol, verdict in result.verdicts.items()}


def test_healthy_sample_is_ready_and_exposed_when_meant_to_be_off() -> None:
    assert _status(_scan(SAMPLES / "healthy-2019")) == {"pop3": "ready", "imap4": "ready"}
    off = _scan(SAMPLES / "healthy-2019", pop3_intended="disabled", imap4_intended="disabled")
    assert _status(off) == {"pop3": "exposed", "imap4": "exposed"}


def test_the_healthy_sample_is_ready_and_secure_until_exchange_2019_leaves_support() -> None:
    """Readiness and safety are two answers: the same ready servers are at risk once their version is out of
    support (Exchange 2019 on 2025-10-14)."""
    before = scan(ScanOptions([SAMPLES / "healthy-2019"], as_of=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)))
    assert {p: (v["status"], v["safety"]["status"]) for p, v in before.verdicts.items()} == {
        "pop3": ("ready", "secure"), "imap4": ("ready", "secure")}  # fmt: skip
    after = _scan(SAMPLES / "healthy-2019").verdicts["pop3"]
    assert (after["status"], after["safety"]["status"]) == ("ready", "at_risk")
    assert after["safety"]["reasons"] == [
        "Every Exchange server runs a version that is supported at the evaluation date (2 of 2 servers; EXCH01, EXCH02)"
    ]


def test_clear_text_passwords_on_port_110_are_a_risk_named_with_their_server() -> None:
    safety = _scan(SAMPLES / "mistakes-2016").verdicts["pop3"]["safety"]
    assert safety["status"] == "at_risk" and safety["servers"]["EX16A"] == "at_risk"
    assert (
        "POP3 does not accept clear-text passwords on an unencrypted port (1 of 1 servers; EX16A)" in safety["reasons"]
    )


def test_mistakes_sample_is_not_ready_and_says_which_server() -> None:
    result = _scan(SAMPLES / "mistakes-2016")
    assert _status(result) == {"pop3": "not_ready", "imap4": "not_ready"}
    pop3 = result.verdicts["pop3"]
    assert pop3["servers"] == {"EX16A": "not_ready", "EX16B": "unknown"}  # EX16B's POP settings were not exported
    outcomes = {r.rule_id: r for r in result.results}
    # PlainTextLogin where SecureLogin was intended lets clients in (a safety finding: POP-SEC-001); EX16B's
    # settings were not exported, so its LoginType cannot be judged.
    assert [(f.server, f.outcome) for f in outcomes["POP-SET-001"].findings] == [("EX16B", "not_evaluated")]
    assert [f.server for f in outcomes["POP-SEC-001"].findings] == ["EX16A"]
    users = [f.object for f in outcomes["POP-USR-001"].findings]
    # Named as admins know them; the shared mailbox 0 is out of scope.
    assert users == ["User 000007 <user000007@fabrikam.com>", "User 000011 <user000011@fabrikam.com>"]


def test_mixed_formats_sample_is_partial_for_pop3() -> None:
    result = _scan(SAMPLES / "mixed-formats")
    assert _status(result) == {"pop3": "partial", "imap4": "not_ready"}
    assert "1 of 12 mailboxes" in result.verdicts["pop3"]["summary"]


@pytest.mark.parametrize("version", ["E16", "E19"])
def test_real_exports_are_not_ready_and_name_the_services(tmp_path: Path, version: str) -> None:
    prefix = f"Diagnostics__HealthChecker__Tests__DataCollection__{version}__"
    for name in ("Exchange__GetExchangeServer", "OS__GetService", "Exchange__GetServerComponentState"):
        shutil.copy(CSS / f"{prefix}{name}.xml", tmp_path)
    result = _scan(tmp_path)
    assert _status(result) == {"pop3": "not_ready", "imap4": "not_ready"}
    messages = " ".join(f.message for r in result.results for f in r.findings)
    for service in ("MSExchangePop3", "MSExchangePOP3BE", "MSExchangeImap4", "MSExchangeIMAP4BE"):
        assert f"Name={service}, Status=Stopped, StartType=Manual" in messages
    lifecycle = next(r for r in result.results if r.rule_id == "EXS-VER-001")
    product = {"E16": "Exchange 2016", "E19": "Exchange 2019"}[version]
    assert lifecycle.outcome == "fail"
    assert f"runs {product} (15." in lifecycle.findings[0].message
    assert lifecycle.findings[0].message.endswith("whose support ended on 2025-10-14")
    off = _scan(tmp_path, pop3_intended="disabled", imap4_intended="disabled")
    assert _status(off) == {"pop3": "disabled", "imap4": "disabled"}


def test_a_damaged_input_never_yields_ready(tmp_path: Path) -> None:
    bundle = tmp_path / "healthy"
    shutil.copytree(SAMPLES / "healthy-2019", bundle)
    services = bundle / "EXCH02" / "Get-Service.xml"
    content = services.read_bytes()
    services.write_bytes(content[: int(len(content) * 0.9)])  # cut off: the last records are missing
    result = _scan(bundle)
    assert "ready" not in _status(result).values()
    outcomes = {r.rule_id: r.outcome for r in result.results}
    assert outcomes["POP-SVC-001"] == "not_evaluated"  # EXCH02's records were cut off: not judged, never passed
    assert any("records before it kept" in p.message for p in result.bundle.problems)


def test_a_cut_off_mailbox_export_leaves_the_verdict_unknown_and_names_the_file(tmp_path: Path) -> None:
    bundle = tmp_path / "healthy"
    shutil.copytree(SAMPLES / "healthy-2019", bundle)
    (bundle / "manifest.json").unlink()  # the manifest's hashes would flag the edit on their own
    cas = bundle / "Get-CASMailbox.xml"
    text = cas.read_bytes()
    cut = text.index(b"<Obj RefId=", len(text) // 2)  # a copy that stopped half way, between two mailboxes
    cas.write_bytes(text[:cut])
    result = _scan(bundle)
    assert _status(result) == {"pop3": "unknown", "imap4": "unknown"}
    pop3 = result.verdicts["pop3"]
    users = next(r for r in result.results if r.rule_id == "POP-USR-001")
    assert users.outcome == "not_evaluated" and users.reason is not None
    shown = f"healthy/{cas.name}"  # named from the bundle root
    assert users.reason.startswith(f"would pass, but the input may be incomplete: {shown} (damaged or truncated XML")
    assert any(line.startswith(shown) and "cas_mailbox incomplete" in line for line in pop3["degraded_inputs"])
    assert set(pop3["servers"].values()) == {"ready"}  # mailbox data says nothing against a server


def test_a_lossy_column_a_check_reads_makes_the_verdict_unknown() -> None:
    rules = [r for r in load_rules([ROOT / "rules" / "pop-imap"]) if r.id == "POP-USR-001"]
    passed = [RuleResult(rules[0].id, "pass", None, (), evaluated=3)]
    lossy = {"cas_mailbox": DatasetHealth(lossy_columns={"PopEnabled": "Format-Table cut the column"})}
    unrelated = {"cas_mailbox": DatasetHealth(lossy_columns={"ImapProtocolLoggingEnabled": "cut"})}
    degraded = compute_verdicts(rules, passed, [], {}, lossy)["pop3"]
    assert degraded["status"] == "unknown"
    assert degraded["summary"].endswith("but an input it depends on is damaged, cut off or lossy")
    assert degraded["summary_ja"].startswith("必須のチェックはすべて合格しました。ただし")
    assert compute_verdicts(rules, passed, [], {}, unrelated)["pop3"]["status"] == "ready"


def test_a_damaged_service_export_makes_ready_servers_unknown() -> None:
    rules = [r for r in load_rules([ROOT / "rules" / "pop-imap"]) if r.id == "POP-SVC-001"]
    passed = [RuleResult(rules[0].id, "pass", None, (), evaluated=1)]
    damaged = {"service": DatasetHealth(incomplete_sources=("EXCH01/Get-Service.xml",))}
    verdict = compute_verdicts(rules, passed, ["EXCH01"], {}, damaged)["pop3"]
    assert (verdict["status"], verdict["servers"]) == ("unknown", {"EXCH01": "unknown"})
    assert verdict["degraded_inputs"] == ["EXCH01/Get-Service.xml: service incomplete (damaged or cut off)"]


def _real_e19_certificates_with_pop_settings(tmp_path: Path) -> Path:
    """The real E19 lab's Get-ExchangeCertificate and Get-ExchangeServer, with a synthetic POP settings export
    (Format-List, as the seed procedure saves it) that names the lab's default certificate's host."""
    prefix = "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__"
    for name in ("GetExchangeCertificate", "GetExchangeServer"):
        shutil.copy(CSS / f"{prefix}{name}.xml", tmp_path)
    (tmp_path / "synthetic-Get-PopSettings-fl.txt").write_text(
        "\nRunspaceId : 00000000-0000-0000-0000-000000000000\nLoginType : SecureLogin\n"
        "X509CertificateName : Solo-E19A.Solo.com\nUnencryptedOrTLSBindings : {[::]:110, 0.0.0.0:110}\n"
        "SSLBindings : {[::]:995, 0.0.0.0:995}\nMessageRetrievalSortOrder : Ascending\n"
        "Server : SOLO-E19A\nIdentity : SOLO-E19A\\1\n\n",
        encoding="utf-8",
    )
    return tmp_path


def test_real_e19_default_certificate_is_judged_on_its_own_server(tmp_path: Path) -> None:
    bundle = _real_e19_certificates_with_pop_settings(tmp_path)
    outcomes = {r.rule_id: r for r in _scan(bundle).results}
    assert outcomes["POP-CRT-001"].outcome == "pass"  # Solo-E19A.Solo.com is a SAN of the lab's certificate
    expired = outcomes["POP-CRT-002"]  # it expired on 2024-12-03
    assert expired.outcome == "fail"
    assert "NotAfter=2024-12-03 22:45:58 UTC" in expired.findings[0].message
    weak = outcomes["POP-CRT-004"].findings[0].message  # self-signed by Exchange setup, signed with SHA-1
    assert "IsSelfSigned=True" in weak
    assert "SignatureAlgorithm=sha1" in weak
    before = scan(ScanOptions([bundle], as_of=dt.datetime(2024, 6, 1, tzinfo=dt.UTC)))
    assert {r.rule_id: r.outcome for r in before.results if r.rule_id in ("POP-CRT-002", "POP-CRT-003")} == {
        "POP-CRT-002": "pass",
        "POP-CRT-003": "pass",
    }
    soon = scan(ScanOptions([bundle], as_of=dt.datetime(2024, 11, 20, tzinfo=dt.UTC)))
    assert next(r for r in soon.results if r.rule_id == "POP-CRT-003").outcome == "fail"


def test_the_pack_document_lists_every_rule_with_its_role_and_severity() -> None:
    document = (ROOT / "docs" / "pop-imap-pack.md").read_text(encoding="utf-8")
    for rule in load_rules([ROOT / "rules" / "pop-imap"]):
        role, intent, fed = rule.verdict["role"], rule.verdict.get("intent", "any"), ", ".join(answers(rule))
        assert f"| `{rule.id}` | {rule.title} | {role} | {intent} | {fed} | {rule.severity} |" in document, rule.id


def test_users_blocked_by_their_own_policy_make_the_verdict_partial_not_none_enabled() -> None:
    rules = [r for r in load_rules([ROOT / "rules" / "pop-imap"]) if r.id in ("POP-USR-001", "POP-AUTH-002")]
    findings = tuple(
        Finding(
            f"k{name}", "POP-AUTH-002", "fail", name, None, "user", "AuthenticationPolicy", "", "", "", None, None, None
        )
        for name in ("alice@contoso.com", "bob@contoso.com")
    )
    results = [  # 40 mailboxes in scope are enabled; both users with a policy of their own are blocked
        RuleResult("POP-USR-001", "pass", None, (), evaluated=40),
        RuleResult("POP-AUTH-002", "fail", None, findings, evaluated=2),
    ]
    verdict = compute_verdicts(rules, results, [], {})["pop3"]
    assert verdict["status"] == "partial"
    assert "POP-AUTH-002: 2 of 2 mailboxes" in verdict["summary"]


def test_a_server_check_without_any_data_leaves_no_server_ready() -> None:
    rules = [r for r in load_rules([ROOT / "rules" / "pop-imap"]) if r.id in ("POP-SET-001", "POP-USR-001")]
    results = [
        RuleResult("POP-SET-001", "not_evaluated", "no pop_settings data in the bundle", (), evaluated=0),
        RuleResult("POP-USR-001", "not_evaluated", "no cas_mailbox data in the bundle", (), evaluated=0),
    ]
    verdict = compute_verdicts(rules, results, ["EX1", "EX2"], {})["pop3"]
    assert verdict["status"] == "unknown"
    assert verdict["servers"] == {"EX1": "unknown", "EX2": "unknown"}  # from POP-SET-001, a server check
    mailbox_only = compute_verdicts(rules, [RuleResult("POP-SET-001", "pass", None, (), 2), results[1]], ["EX1"], {})
    assert mailbox_only["pop3"]["servers"] == {"EX1": "ready"}  # mailbox data says nothing about a server


def _mailbox_findings(count: int) -> tuple[Finding, ...]:
    return tuple(
        Finding(
            f"m{i}",
            "POP-USR-001",
            "fail",
            f"user{i}@contoso.com",
            None,
            "cas_mailbox",
            "PopEnabled",
            "False",
            "True",
            "",
            None,
            None,
            None,
        )
        for i in range(count)
    )


@pytest.mark.parametrize(
    ("disabled", "in_scope", "status"),
    [(3, 3, "not_ready"), (1, 1, "not_ready"), (2, 3, "partial"), (1, 40, "partial"), (0, 3, "ready")],
)
def test_the_verdict_counts_the_mailboxes_in_scope(disabled: int, in_scope: int, status: str) -> None:
    """Every in-scope mailbox disabled is not_ready ("no mailbox in scope is enabled"); some is partial."""
    rules = [r for r in load_rules([ROOT / "rules" / "pop-imap"]) if r.id in ("POP-SET-001", "POP-USR-001")]
    results = [
        RuleResult("POP-SET-001", "pass", None, (), evaluated=2),
        RuleResult("POP-USR-001", "fail" if disabled else "pass", None, _mailbox_findings(disabled), in_scope),
    ]
    verdict = compute_verdicts(rules, results, ["EX1", "EX2"], {})["pop3"]
    assert verdict["status"] == status, verdict["summary"]
    if status == "not_ready":
        assert verdict["summary"] == "no mailbox in scope is enabled"
    if status == "partial":
        assert f"POP-USR-001: {disabled} of {in_scope} mailboxes" in verdict["summary"]


def test_a_bundle_whose_every_mailbox_has_pop3_off_is_not_ready(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLES / "healthy-2019", bundle)
    (bundle / "manifest.json").unlink()
    export = bundle / "Get-CASMailbox.xml"
    raw = export.read_bytes()
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    text = raw.decode(encoding)
    assert text.count('<B N="PopEnabled">true</B>') > 1
    export.write_text(text.replace('<B N="PopEnabled">true</B>', '<B N="PopEnabled">false</B>'), encoding="utf-8")
    result = _scan(bundle)
    assert _status(result) == {"pop3": "not_ready", "imap4": "ready"}
    assert result.verdicts["pop3"]["summary"] == "no mailbox in scope is enabled"


def test_every_rule_says_what_is_expected_in_words_and_report_json_keeps_the_condition() -> None:
    rules = load_rules([ROOT / "rules" / "pop-imap"])
    assert [r.id for r in rules if not (r.expected and r.texts_ja.get("expected"))] == []
    report = build(_scan(SAMPLES / "mistakes-2016"))
    [result] = [r for r in report["results"] if r["rule_id"] == "POP-SVC-001"]
    [finding] = result["findings"]
    assert finding["expected"] == "MSExchangePOP3 running and starting automatically"
    assert finding["expected_ja"] == "MSExchangePOP3 が実行中で、自動的に開始される"
    assert finding["condition"].startswith("service where Name = MSExchangePOP3: all with Status = Running")


def test_findings_name_objects_as_admins_know_them_without_noise() -> None:
    results = {r.rule_id: r for r in _scan(SAMPLES / "mistakes-2016").results}
    [expired] = results["POP-CRT-002"].findings
    export = (SAMPLES / "mistakes-2016" / "certificates-EX16A.xml").read_text(encoding="utf-16")
    thumbprint = re.search(r'<S N="Thumbprint">([0-9A-F]{40})</S>', export)
    assert thumbprint and expired.observed.startswith(f"Thumbprint={thumbprint[1]}, Subject=CN=ex16a, NotAfter=")
    [clear] = results["POP-SEC-001"].findings
    assert clear.observed.startswith("LoginType=PlainTextLogin")  # not `Name=1, …`: Get-PopSettings' Name is always 1
    [component] = results["IMAP-CMP-001"].findings
    assert component.observed == "Component=ImapProxy, State=Inactive"


def test_a_login_type_weaker_than_intended_is_a_risk_and_a_stricter_one_turns_clients_away() -> None:
    """PlainTextLogin where SecureLogin was intended: clients connect (readiness passes), and clear text on port
    110 makes POP3 at risk. SecureLogin where PlainTextLogin was intended: clients without TLS are turned away."""
    weaker = _scan(SAMPLES / "mistakes-2016")
    results = {r.rule_id: r for r in weaker.results}
    assert "EX16A" not in {f.server for f in results["POP-SET-001"].findings}
    assert weaker.verdicts["pop3"]["safety"]["servers"]["EX16A"] == "at_risk"
    stricter = _scan(SAMPLES / "healthy-2019", login_type="PlainTextLogin")
    [setting] = [r for r in stricter.results if r.rule_id == "POP-SET-001"]
    assert setting.outcome == "fail" and {f.server for f in setting.findings} == {"EXCH01", "EXCH02"}
    assert "clients that do not use TLS cannot sign in" in setting.findings[0].message
    assert stricter.verdicts["pop3"]["status"] == "not_ready"
