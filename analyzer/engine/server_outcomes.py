"""Each server's own outcome under a rule: what a checklist for one server (a STIG checklist is per host) and a
bundle mixing versions need, where the rule's outcome speaks for the whole bundle.

A server's outcome is the worst of its own findings and of the organisation-wide findings (which speak for every
server); a server with none passes — unless no export had a row for it, or the rule could not be judged at all, when
it is not_evaluated. A rule that waits for a person, is not applicable, or broke says so for every server."""

from __future__ import annotations

from analyzer.model import RuleResult, worst

_WHOLE_RULE = ("not_applicable", "not_reviewed", "error")


def server_outcomes(result: RuleResult) -> dict[str, str]:
    """Server key → its outcome, for the servers the result speaks for (none when it speaks for no server)."""
    if result.outcome in _WHOLE_RULE:
        return dict.fromkeys(result.scope, result.outcome)
    mine: dict[str, list[str]] = {}
    everyone: list[str] = []  # organisation-wide findings: about every server
    for finding in result.findings:
        (mine.setdefault(finding.server, []) if finding.server else everyone).append(finding.outcome)
    # not_evaluated with no finding that says so: the rule as a whole could not be judged (data missing, damaged) —
    # unless the servers whose rows are missing say why, and the rule judged the others' rows
    unjudged = (result.outcome == "not_evaluated" and "not_evaluated" not in {f.outcome for f in result.findings}
                and not result.absent)  # fmt: skip
    outcomes = {}
    for server in result.scope:
        seen = mine.get(server, []) + everyone
        if seen:
            outcomes[server] = worst(seen)
        elif unjudged or server in result.absent:
            outcomes[server] = "not_evaluated"
        else:
            outcomes[server] = "pass"
    return outcomes
