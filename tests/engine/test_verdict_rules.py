"""The verdict rules of docs/pop-imap-pack.md as a table: checks in, (status, why, why in Japanese) out, exactly.
The pack's own tests reach these through whole scans; here every rule and its boundary is one row."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.engine.verdicts import _disabled_status, _enabled_status


def _c(outcome: str, role: str = "required", measures: str = "servers", intent: str = "enabled", failing: int = 0,
       evaluated: int = 1, rule_id: str = "R") -> dict[str, Any]:  # fmt: skip
    return {"rule_id": rule_id, "outcome": outcome, "role": role, "measures": measures, "intent": intent,
            "failing": failing, "evaluated": evaluated}  # fmt: skip


_NOT_READY = ("not_ready", "a required or advisory check failed", "必須または推奨のチェックが不合格です")
_NONE_ENABLED = ("not_ready", "no mailbox in scope is enabled", "対象のメールボックスがどれも有効になっていません")
_UNKNOWN = ("unknown", "a required check could not be evaluated", "必須のチェックを評価できませんでした")
_READY = ("ready", "every required check passed", "必須のチェックはすべて合格しました")


def _partial(counts: str) -> tuple[str, str, str]:
    return ("partial", f"the servers are ready, but some mailboxes in scope cannot connect ({counts})",
            f"サーバーは準備完了ですが、接続できない対象メールボックスがあります ({counts})")  # fmt: skip


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([_c("pass"), _c("pass", "advisory")], _READY),
        ([_c("pass"), _c("fail", "advisory")], _NOT_READY),  # advisory failures count
        ([_c("pass"), _c("fail", "information")], _READY),  # information never does
        ([_c("not_evaluated", "information")], _READY),
        ([_c("pass"), _c("not_evaluated")], _UNKNOWN),
        ([_c("pass"), _c("error")], _UNKNOWN),
        ([_c("pass"), _c("not_evaluated", "advisory")], _READY),  # listed as not checked, never unknown
        ([_c("not_evaluated"), _c("fail", "advisory")], _NOT_READY),  # bad news stands over missing data
        ([_c("pass"), _c("fail", measures="mailboxes", failing=3, evaluated=3, rule_id="U")], _NONE_ENABLED),
        ([_c("pass"), _c("fail", measures="mailboxes", failing=2, evaluated=3, rule_id="U")],
         _partial("U: 2 of 3 mailboxes")),
        ([_c("pass"), _c("fail", measures="mailboxes", failing=0, evaluated=0, rule_id="U")],
         _partial("U: 0 of 0 mailboxes")),  # nothing evaluated is not "none enabled"
        ([_c("fail", "advisory", "mailboxes", failing=3, evaluated=3, rule_id="A")],
         _partial("A: 3 of 3 mailboxes")),  # an advisory mailbox check counts a subset, never the whole scope
        ([_c("fail", measures="mailboxes", failing=3, evaluated=3, rule_id="U"), _c("not_evaluated")], _NONE_ENABLED),
        ([_c("fail", measures="mailboxes", failing=1, evaluated=3, rule_id="U"), _c("not_evaluated")], _UNKNOWN),
        ([_c("fail", measures="mailboxes", failing=1, evaluated=2, rule_id="U"),
          _c("fail", "advisory", "mailboxes", failing=4, evaluated=9, rule_id="A")],
         _partial("U: 1 of 2 mailboxes; A: 4 of 9 mailboxes")),
        ([_c("fail", measures="mailboxes", failing=2, evaluated=2, rule_id="U"),
          _c("fail", measures="mailboxes", failing=1, evaluated=2, rule_id="V")],
         _partial("U: 2 of 2 mailboxes; V: 1 of 2 mailboxes")),  # every required scope check must be all-failing
        ([], _READY),
    ],
)  # fmt: skip
def test_the_enabled_verdict_rules(checks: list[dict[str, Any]], expected: tuple[str, str, str]) -> None:
    assert _enabled_status(checks) == expected


_DISABLED = ("disabled", "no client can connect", "どのクライアントも接続できません")
_EXPOSED = ("exposed", "clients can still connect", "クライアントはまだ接続できます")
_MISSING = ("unknown", "the data to tell is missing", "判断するためのデータがありません")


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([_c("pass", intent="disabled")], _DISABLED),
        ([_c("pass", intent="disabled"), _c("fail", intent="disabled")], _DISABLED),  # one way off is off
        ([_c("fail", intent="disabled"), _c("fail", "advisory", intent="disabled")], _EXPOSED),
        ([_c("fail", intent="disabled"), _c("not_evaluated", intent="disabled")], _MISSING),
        ([_c("not_evaluated", intent="disabled")], _MISSING),
        ([], _MISSING),
        ([_c("pass", intent="any")], _MISSING),  # only checks of the disabled intent decide
        ([_c("pass", "information", intent="disabled")], _MISSING),
        ([_c("fail", "information", intent="disabled")], _MISSING),
        ([_c("fail", intent="disabled"), _c("pass", "information", intent="disabled")], _EXPOSED),
    ],
)
def test_the_disabled_verdict_rules(checks: list[dict[str, Any]], expected: tuple[str, str, str]) -> None:
    assert _disabled_status(checks) == expected
