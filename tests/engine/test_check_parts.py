"""What the baseline packs needed from the engine: a check in several parts (`all_of`), a join against an
organisation-wide setting (`key: '*'`), counting a multi-valued column's items, several parameter gates, and
organisation-wide settings kept apart per Edge server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from analyzer.engine.evaluate import Evidence, evaluate_rule
from analyzer.engine.loader import RuleError, load_rule
from analyzer.engine.ruletests import run_case
from analyzer.exchange.bundle import load_bundle
from analyzer.synthetic.exchange_objects import ExchangeObject
from analyzer.synthetic.samples import clixml_bytes

MAILBOX = {"Name": "EXCH01", "Fqdn": "exch01.contoso.com", "AdminDisplayVersion": "Version 15.2 (Build 1544.4)",
           "IsMailboxServer": True, "IsEdgeServer": False}  # fmt: skip
EDGE = {"Name": "EDGE01", "Fqdn": "edge01.contoso.com", "AdminDisplayVersion": "Version 15.2 (Build 1544.4)",
        "IsMailboxServer": False, "IsEdgeServer": True}  # fmt: skip

HEAD = """\
id: TEST-PARTS-001
title: parts
severity: medium
rationale: why
remediation: {text: how}
"""


def _rule(tmp_path: Path, body: str, tests: str = "") -> Any:
    path = tmp_path / "rule.yaml"
    default = "tests: [{name: x, data: {}, expect: {outcome: pass}}, {name: y, data: {}, expect: {outcome: fail}}]\n"
    path.write_text(HEAD + body + (tests or default), encoding="utf-8")
    return load_rule(path)


def _result(rule: Any, data: dict[str, list[dict[str, Any]]], params: dict[str, Any] | None = None) -> str:
    case = {"name": "case", "data": data, "params": params or {}, "expect": {"outcome": "error"}}
    detail = run_case(rule, case).detail  # "outcome pass (reason), expected error"
    return detail.removeprefix("outcome ").split(" ")[0]


FILTERS = """\
check:
  all_of:
    - each: {dataset: content_filter_config}
      assert: {column: Enabled, eq: true}
    - each: {dataset: sender_id_config}
      assert: {column: Enabled, eq: true}
"""


def test_all_of_fails_on_any_failing_part_and_a_missing_part_is_not_a_pass(tmp_path: Path) -> None:
    rule = _rule(tmp_path, FILTERS)
    on = {"content_filter_config": [{"Name": "C", "Enabled": True, "SCLRejectEnabled": True}],
          "sender_id_config": [{"Name": "S", "Enabled": True, "SpoofedDomainAction": "Reject"}]}  # fmt: skip
    assert _result(rule, on) == "pass"
    off = {**on, "sender_id_config": [{"Name": "S", "Enabled": False, "SpoofedDomainAction": "Reject"}]}
    assert _result(rule, off) == "fail"
    assert _result(rule, {"content_filter_config": on["content_filter_config"]}) == "not_evaluated"
    # One part's missing data does not hide another part's failure.
    broken = {"content_filter_config": [{"Name": "C", "Enabled": False, "SCLRejectEnabled": True}]}
    assert _result(rule, broken) == "fail"


def test_a_join_with_key_star_compares_every_object_with_the_organisation_wide_setting(tmp_path: Path) -> None:
    rule = _rule(
        tmp_path,
        """\
check:
  for_each: {dataset: receive_connector}
  join:
    dataset: transport_config
    key: '*'
    assert: {column: MaxReceiveSize, eq: {object: MaxMessageSize}}
""",
    )
    config = [{"Name": "Transport Settings", "MaxReceiveSize": "10 MB (10,485,760 bytes)", "MaxSendSize": "10 MB",
               "MaxRecipientEnvelopeLimit": "5000"}]  # fmt: skip

    def connector(name: str, size: str) -> dict[str, Any]:
        return {"Name": name, "Server": "EXCH01", "Identity": f"EXCH01\\{name}", "Bindings": "0.0.0.0:25",
                "AuthMechanism": "Tls", "PermissionGroups": "ExchangeUsers", "TransportRole": "FrontendTransport",
                "MaxMessageSize": size}  # fmt: skip

    same = [connector("A", "10 MB (10,485,760 bytes)"), connector("B", "10 MB (10,485,760 bytes)")]
    assert (
        _result(rule, {"exchange_server": [MAILBOX], "receive_connector": same, "transport_config": config}) == "pass"
    )
    larger = [*same, connector("C", "35 MB (36,700,160 bytes)")]
    case = {"name": "c", "data": {"exchange_server": [MAILBOX], "receive_connector": larger, "transport_config": config},
            "expect": {"outcome": "fail", "failing": ["C"]}}  # fmt: skip
    assert run_case(rule, case).passed
    assert _result(rule, {"exchange_server": [MAILBOX], "receive_connector": same}) == "not_evaluated"


def test_items_at_least_counts_a_multi_valued_columns_entries(tmp_path: Path) -> None:
    rule = _rule(
        tmp_path, "check:\n  each: {dataset: mailbox_database}\n  assert: {column: DatabaseCopies, items_at_least: 2}\n"
    )

    def database(copies: list[str]) -> dict[str, Any]:
        return {"Name": "DB01", "Identity": "DB01", "CircularLoggingEnabled": False, "EdbFilePath": "D:\\DB01.edb",
                "ProhibitSendQuota": "Unlimited", "DatabaseCopies": copies}  # fmt: skip

    assert _result(rule, {"mailbox_database": [database(["DB01\\EXCH01", "DB01\\EXCH02"])]}) == "pass"
    assert _result(rule, {"mailbox_database": [database(["DB01\\EXCH01"])]}) == "fail"


def test_gates_in_a_list_must_all_hold_and_a_set_gate_decides_while_a_site_value_waits(tmp_path: Path) -> None:
    rule = _rule(
        tmp_path,
        """\
applies_to:
  when:
    - {param: network, in: [nipr, closed]}
    - {param: anti_spam, eq: exchange}
params:
  network: {type: string, default: nipr, choices: [nipr, sipr, closed]}
  anti_spam: {type: string, default: exchange, choices: [exchange, eemsg]}
  domains: {type: list, default: null, site_value: true}
check:
  each: {dataset: sender_filter_config}
  assert: {column: BlockedDomains, contains_all: {param: domains}}
""",
    )
    data = {"sender_filter_config": [{"Name": "S", "Enabled": True, "BlankSenderBlockingEnabled": True,
                                      "BlockedDomains": ["spam.example"]}]}  # fmt: skip
    assert _result(rule, data) == "not_reviewed"  # the site's list is not given
    assert _result(rule, data, {"network": "sipr"}) == "not_applicable"  # whatever the site's list would be
    assert _result(rule, data, {"anti_spam": "eemsg"}) == "not_applicable"
    assert _result(rule, data, {"domains": ["spam.example"]}) == "pass"
    assert _result(rule, data, {"domains": ["junk.example"]}) == "fail"


def test_a_manual_item_waits_for_a_person_even_without_a_server_list(tmp_path: Path) -> None:
    rule = _rule(tmp_path, "applies_to: {roles: [Edge]}\ncheck:\n  manual: {procedure: look at the ACLs}\n")
    assert _result(rule, {}) == "not_reviewed"
    assert _result(rule, {"exchange_server": [MAILBOX]}) == "not_applicable"  # no Edge server to review


def test_rule_test_rows_that_read_as_another_dataset_are_a_clear_failure_not_a_crash(tmp_path: Path) -> None:
    rule = _rule(tmp_path, FILTERS)
    case = {"name": "typo", "data": {"registry_value": [{"Key": "HKLM:\\X", "Name": "Y", "Value": "1"}]},
            "expect": {"outcome": "pass"}}  # fmt: skip
    result = run_case(rule, case)
    assert not result.passed and "read as no dataset, not registry_value" in result.detail


def test_a_join_key_that_is_not_a_column_is_refused_but_star_is_allowed(tmp_path: Path) -> None:
    body = "check:\n  for_each: {dataset: send_connector}\n  join: {dataset: transport_config, key: KEY}\n"
    assert _rule(tmp_path, body.replace("KEY", "'*'")).id == "TEST-PARTS-001"
    with pytest.raises(RuleError, match="has no column 'Nope' to join on"):
        _rule(tmp_path, body.replace("KEY", "Nope"))


def _org_wide_bundle(tmp_path: Path) -> Path:
    """A Mailbox server and an Edge server; each exported its own Get-ContentFilterConfig, the Edge server's in a
    folder named after it."""
    root = tmp_path / "bundle"
    (root / "EDGE01").mkdir(parents=True)
    server_type = ("Microsoft.Exchange.Data.Directory.Management.ExchangeServer",)
    servers: list[ExchangeObject] = [(server_type, dict(s), {}) for s in (MAILBOX, EDGE)]
    (root / "servers.xml").write_bytes(clixml_bytes(servers))
    type_name = ("Microsoft.Exchange.Data.Directory.SystemConfiguration.ContentFilterConfig",)
    organisation: ExchangeObject = (type_name, {"Name": "ContentFilterConfig", "Enabled": True, "Guid": "1"}, {})
    edge: ExchangeObject = (type_name, {"Name": "ContentFilterConfig", "Enabled": False, "Guid": "2"}, {})
    (root / "content-filter.xml").write_bytes(clixml_bytes([organisation]))
    (root / "EDGE01" / "content-filter.xml").write_bytes(clixml_bytes([edge]))
    return root


@pytest.mark.parametrize(("role", "outcome"), [("Mailbox", "pass"), ("Edge", "fail")])
def test_an_edge_servers_own_settings_are_judged_for_it_and_not_for_the_organisation(
    tmp_path: Path, role: str, outcome: str
) -> None:
    bundle = load_bundle([_org_wide_bundle(tmp_path)])
    frame = bundle.datasets["content_filter_config"].frame
    assert sorted(frame["server_key"].fillna("-")) == ["-", "EDGE01"]  # the folder names the Edge server
    rule = _rule(tmp_path, f"applies_to: {{roles: [{role}]}}\ncheck:\n  each: {{dataset: content_filter_config}}\n"
                           "  assert: {column: Enabled, eq: true}\n")  # fmt: skip
    result = evaluate_rule(rule, Evidence(bundle.datasets, bundle.servers, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)))
    assert result.outcome == outcome
    assert result.evaluated == 1  # one configuration each: the organisation's, or the Edge server's own


def test_an_edge_rule_with_only_the_organisations_settings_is_not_judged_never_passed(tmp_path: Path) -> None:
    root = _org_wide_bundle(tmp_path)
    (root / "EDGE01" / "content-filter.xml").unlink()  # the Edge server's own configuration was not exported
    bundle = load_bundle([root])
    rule = _rule(tmp_path, "applies_to: {roles: [Edge]}\ncheck:\n  each: {dataset: content_filter_config}\n"
                           "  assert: {column: Enabled, eq: true}\n")  # fmt: skip
    result = evaluate_rule(rule, Evidence(bundle.datasets, bundle.servers, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)))
    assert result.outcome == "not_evaluated"
    assert "no content_filter_config data exported on EDGE01" in str(result.reason)


def test_a_server_in_scope_without_rows_makes_a_pass_not_evaluated(tmp_path: Path) -> None:
    rule = _rule(tmp_path, "applies_to: {roles: [Mailbox]}\ncheck:\n  each: {dataset: rpc_client_access}\n"
                           "  assert: {column: EncryptionRequired, eq: true}\n")  # fmt: skip
    second = {**MAILBOX, "Name": "EXCH02", "Fqdn": "exch02.contoso.com"}
    rpc = [{"Name": "RpcClientAccess", "Server": "EXCH01", "Identity": "EXCH01", "EncryptionRequired": True}]
    assert _result(rule, {"exchange_server": [MAILBOX], "rpc_client_access": rpc}) == "pass"
    case = {"name": "c", "data": {"exchange_server": [MAILBOX, second], "rpc_client_access": rpc},
            "expect": {"outcome": "pass"}}  # fmt: skip
    detail = run_case(rule, case).detail
    assert detail.startswith("outcome not_evaluated") and "no rpc_client_access rows for EXCH02" in detail


def test_a_setting_whose_null_is_a_value_is_still_unknown_where_no_export_had_the_property() -> None:
    """A Get-Mailbox export without the forwarding properties (a Select-Object that left them out) says nothing
    about forwarding: the STIG item is not_evaluated, not 'nobody forwards, not applicable'."""
    from analyzer.engine.loader import load_rule as load

    rule = load(Path(__file__).resolve().parents[2] / "rules" / "stig-exchange-2019-mailbox" / "ex19-mb-000116.yaml")
    mailbox = {"Name": "bob", "PrimarySmtpAddress": "bob@contoso.mil", "RecipientTypeDetails": "UserMailbox",
               "Database": "DB01"}  # fmt: skip
    params = {"authorised_forwarders": ["ann@contoso.mil"]}
    assert _result(rule, {"exchange_server": [MAILBOX], "mailbox": [mailbox]}, params) == "not_evaluated"
    exported = {**mailbox, "ForwardingAddress": None, "ForwardingSmtpAddress": None}
    assert _result(rule, {"exchange_server": [MAILBOX], "mailbox": [exported]}, params) == "not_applicable"
