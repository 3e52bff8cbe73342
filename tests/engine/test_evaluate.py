"""Conditions and evaluation: three-valued logic, operators, scopes, count and join rules, safe templates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest

from analyzer.engine.conditions import Context, evaluate
from analyzer.engine.evaluate import Evidence, coerce_param, evaluate_rule, render
from analyzer.engine.fingerprints import fingerprint
from analyzer.engine.loader import Rule
from analyzer.engine.powershell import quote as powershell_quote
from analyzer.engine.ruletests import _records
from analyzer.exchange.bundle import bundle_from_records

AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def mask(condition: dict[str, Any], frame: pd.DataFrame, **params: Any) -> list[Any]:
    result = evaluate(condition, frame, Context(params, AS_OF))
    return [None if v is pd.NA else bool(v) for v in result]


FRAME = pd.DataFrame(
    {
        "Name": pd.array(["MSExchangePOP3", "msexchangeimap4", None], dtype="string"),
        "On": pd.array([True, False, None], dtype="boolean"),
        "Count": pd.array([5, 0, None], dtype="Int64"),
        "Services": [["IMAP", "POP"], [], None],
        "NotAfter": pd.to_datetime(pd.Series(["2026-01-10", "2027-01-01", None]), utc=True),
    }
)


def test_missing_values_are_unknown_and_kleene_logic_applies() -> None:
    assert mask({"column": "On", "eq": True}, FRAME) == [True, False, None]
    assert mask({"not": {"column": "On", "eq": True}}, FRAME) == [False, True, None]
    # unknown AND false is false; unknown OR true is true
    assert mask({"all": [{"column": "On", "eq": True}, {"column": "Count", "gt": 1}]}, FRAME) == [True, False, None]
    assert mask({"any": [{"column": "On", "eq": True}, {"column": "Name", "exists": False}]}, FRAME) == [
        True,
        False,
        True,
    ]


def test_strings_compare_case_insensitively_unless_told_otherwise() -> None:
    assert mask({"column": "Name", "eq": "msexchangepop3"}, FRAME) == [True, False, None]
    assert mask({"column": "Name", "eq": "msexchangepop3", "case_sensitive": True}, FRAME) == [False, False, None]
    assert mask({"column": "Name", "in": ["MSEXCHANGEIMAP4"]}, FRAME) == [False, True, None]
    assert mask({"column": "Name", "in": {"param": "names"}}, FRAME, names=["msexchangepop3"]) == [True, False, None]
    assert mask({"column": "Name", "regex": "^msexchange(pop|imap)"}, FRAME) == [True, True, None]


def test_lists_empty_dates_and_numbers() -> None:
    assert mask({"column": "Services", "contains": "pop"}, FRAME) == [True, False, None]
    assert mask({"column": "Services", "contains_all": ["IMAP", "POP"]}, FRAME) == [True, False, None]
    assert mask({"column": "Services", "empty": True}, FRAME) == [False, True, True]
    assert mask({"column": "NotAfter", "within_days": 30}, FRAME) == [True, False, None]
    assert mask({"column": "NotAfter", "before": "2026-06-01"}, FRAME) == [True, False, None]
    assert mask({"column": "Count", "ge": {"param": "least"}}, FRAME, least=1) == [True, False, None]


def _rule(check: dict[str, Any], **extra: Any) -> Rule:
    fields = {"id": "T-1", "title": "t", "severity": "high", "check": check, "rationale": "r",
              "remediation": {"text": "fix", "command": "Set-CASMailbox -Identity {identity} -PopEnabled $true"},
              "source": "test.yaml"} | extra  # fmt: skip
    return Rule(**fields)


def _evidence(**rows: list[dict[str, Any]]) -> Evidence:
    bundle = bundle_from_records({name: _records(name, items, name) for name, items in rows.items()}, label="test")
    return Evidence(bundle.datasets, bundle.servers, AS_OF)


def test_each_rule_fail_and_not_evaluated_findings_and_hostile_names_stay_data() -> None:
    hostile = "x'; Remove-Mailbox -Identity * -Confirm:$false; '"
    evidence = _evidence(cas_mailbox=[
        {"Name": "a", "PrimarySmtpAddress": "a@c.com", "PopEnabled": "True", "ImapEnabled": "True", "Guid": "00000000-0000-0000-0000-00000000000a"},
        {"Name": hostile, "PrimarySmtpAddress": "b@c.com", "PopEnabled": "False", "ImapEnabled": "True", "Guid": "00000000-0000-0000-0000-00000000000b"},
        {"Name": "c", "PrimarySmtpAddress": "c@c.com", "PopEnabled": "", "ImapEnabled": "True", "Guid": "00000000-0000-0000-0000-00000000000c"},
    ])  # fmt: skip
    result = evaluate_rule(
        _rule({"each": {"dataset": "cas_mailbox"}, "assert": {"column": "PopEnabled", "eq": True}}), evidence
    )
    assert result.outcome == "fail" and result.evaluated == 3
    by_object = {f.object: f for f in result.findings}
    assert by_object["b@c.com"].outcome == "fail" and by_object["c@c.com"].outcome == "not_evaluated"
    command = by_object["b@c.com"].remediation
    assert command == "Set-CASMailbox -Identity '00000000-0000-0000-0000-00000000000b' -PopEnabled $true"
    assert (
        render("Set-User -Identity {Name}", {"Name": hostile}, quote=True)
        == f"Set-User -Identity {powershell_quote(hostile)}"
    )
    assert powershell_quote(hostile).count("'") == hostile.count("'") * 2 + 2  # every quote doubled: one string


def test_count_rule_uses_certain_and_possible_counts() -> None:
    check = {
        "count": {"dataset": "exchange_server"},
        "matching": {"column": "IsClientAccessServer", "eq": True},
        "at_least": 1,
    }
    none = _evidence(exchange_server=[{"Name": "EX1", "IsClientAccessServer": "False"}])
    assert evaluate_rule(_rule(check), none).outcome == "fail"
    unknown = _evidence(exchange_server=[{"Name": "EX1", "IsClientAccessServer": ""}])
    assert evaluate_rule(_rule(check), unknown).outcome == "not_evaluated"
    some = _evidence(
        exchange_server=[{"Name": "EX1", "IsClientAccessServer": "True"}, {"Name": "EX2", "IsClientAccessServer": ""}]
    )
    assert evaluate_rule(_rule(check), some).outcome == "pass"


def test_missing_dataset_or_column_is_not_evaluated_with_the_cmdlet() -> None:
    check = {"each": {"dataset": "pop_settings"}, "assert": {"column": "LoginType", "eq": "SecureLogin"}}
    result = evaluate_rule(_rule(check), _evidence(exchange_server=[{"Name": "EX1", "IsClientAccessServer": "True"}]))
    assert result.outcome == "not_evaluated" and "Get-PopSettings" in (result.reason or "")
    no_column = _evidence(pop_settings=[{"Server": "EX1", "X509CertificateName": "mail", "Identity": "EX1\\1"}])
    result = evaluate_rule(_rule(check), no_column)
    assert result.outcome == "not_evaluated" and "LoginType is not in the export" in (result.reason or "")


def test_a_broken_rule_is_an_error_and_applies_to_scopes_servers() -> None:
    broken = _rule({"each": {"dataset": "exchange_server"}, "assert": {"column": "Name", "regex": "("}})
    evidence = _evidence(
        exchange_server=[
            {"Name": "EX1", "IsClientAccessServer": "True", "AdminDisplayVersion": "Version 15.1 (Build 2507.6)"}
        ]
    )
    assert evaluate_rule(broken, evidence).outcome == "error"
    only_2019 = _rule({"each": {"dataset": "exchange_server"}, "assert": {"column": "Name", "eq": "x"}},
                      applies_to={"products": ["Exchange 2019"]})  # fmt: skip
    assert evaluate_rule(only_2019, evidence).outcome == "not_applicable"


def test_fingerprints_depend_on_identity_not_on_files() -> None:
    assert fingerprint("R-1", "cas_mailbox", None, "GUID") == fingerprint("R-1", "cas_mailbox", None, "guid")
    assert fingerprint("R-1", "service", "exch01", "x") == fingerprint("R-1", "service", "EXCH01", "x")
    assert fingerprint("R-1", "service", "EXCH01", "x") != fingerprint("R-1", "service", "EXCH02", "x")


def test_regex_on_a_list_column_reads_the_items_as_text() -> None:
    from analyzer.exchange.values import Binding

    frame = pd.DataFrame(
        {"Bindings": [[Binding("0.0.0.0", 587), Binding("[::]", 587)], [Binding("0.0.0.0", 25)], None]}
    )
    assert mask({"column": "Bindings", "regex": r":587\b"}, frame) == [True, False, None]


def test_dates_parameters_merge_overrides_and_fill_lookup_placeholders() -> None:
    assert coerce_param("dates", "Exchange 2019=2026-04-14; Exchange Server SE=none") == {
        "Exchange 2019": "2026-04-14",
        "Exchange Server SE": None,
    }
    assert coerce_param("dates", {"Exchange 2016": dt.date(2025, 10, 14)}) == {"Exchange 2016": "2025-10-14"}
    for bad, said in [
        ("Exchange 2019", "NAME=YYYY-MM-DD"),
        ("Exchange 2019=14.10.2025", "Exchange 2019: expected a date as YYYY-MM-DD"),
        ("Exchange 2019=2025-02-30", "Exchange 2019: '2025-02-30' is not a date"),
    ]:
        with pytest.raises(ValueError, match=re.escape(said)):
            coerce_param("dates", bad)
    ends = {"Exchange 2019": "2025-10-14", "exchange server se": None}
    assert render("ends {ends[product]}", {"ends": ends, "product": "Exchange 2019"}, quote=False) == "ends 2025-10-14"
    assert render("{ends[product]}", {"ends": ends, "product": "Exchange Server SE"}, quote=False) == "none"
    assert render("[{ends[product]}]", {"ends": ends, "product": "Exchange 5.5"}, quote=False) == "[]"


def test_as_of_before_is_unknown_for_values_the_dates_do_not_list() -> None:
    frame = pd.DataFrame({"product": pd.array(["Exchange 2016", "Exchange Server SE", "Exchange 15.3", None])})
    context = Context({"ends": {"Exchange 2016": "2025-10-14", "Exchange Server SE": None}},
                      dt.datetime(2025, 10, 13, tzinfo=dt.UTC))  # fmt: skip
    mask = evaluate({"column": "product", "as_of_before": {"param": "ends"}}, frame, context)
    assert mask.tolist() == [True, True, pd.NA, pd.NA]
    later = Context(context.params, dt.datetime(2025, 10, 14, tzinfo=dt.UTC))  # the end date itself is out
    assert evaluate({"column": "product", "as_of_before": {"param": "ends"}}, frame, later).tolist()[0] is False


def test_bulk_findings_fill_every_field_of_a_finding() -> None:
    """Findings made column-wise (tuple.__new__ skips the NamedTuple defaults) have every field."""
    from analyzer.model import Finding
    from analyzer.pipeline import ScanOptions, packaged_demo, scan

    result = scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC)))
    users = next(r for r in result.results if r.rule_id == "POP-USR-001")
    assert users.findings and all(len(f) == len(Finding._fields) for f in users.findings)
    assert all(f.waiver is None and f.object_key and f.message_ja for f in users.findings)


def test_a_finding_has_the_same_fingerprint_whichever_path_made_it() -> None:
    """One finding at a time and a whole column at once must agree, missing server and identity included: a
    mismatch would class the same failure as new in every comparison between the two paths."""
    from analyzer.engine.fingerprints import fingerprints, object_key, object_keys

    servers = pd.Series(["ex1", None, "EX2", None], dtype="string")
    identities = pd.Series(["A@C.com", "b@c.com", None, None], dtype="string")
    scalar = [fingerprint("R-1", "cas_mailbox", s, i) for s, i in zip([*servers.astype(object).where(servers.notna(), None)],
                                                                       [*identities.astype(object).where(identities.notna(), None)], strict=True)]  # fmt: skip
    assert fingerprints("R-1", "cas_mailbox", servers, identities) == scalar
    assert object_keys("cas_mailbox", servers, identities)[1] == object_key("cas_mailbox", None, "B@C.COM")
    assert fingerprint("R-1", "cas_mailbox", "EX1", "a@c.com") == scalar[0]  # server and identity case do not count
