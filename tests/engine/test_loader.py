"""Rule loading: located errors with suggestions, semantic checks, and the shipped packs' own standards."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from analyzer.engine.loader import RuleError, load_rule, load_rules, rule_schema
from analyzer.engine.ruletests import run_rule_tests
from analyzer.pipeline import packaged_rules

SHIPPED = load_rules([packaged_rules()])

RULE = """\
id: TEST-JOIN-001
title: POP3 runs where it should
severity: medium
tags: [readiness]
params:
  names: {type: list, default: [MSExchangePOP3]}
check:
  for_each: {dataset: exchange_server, where: {column: IsClientAccessServer, eq: true}}
  join:
    dataset: service
    where: {column: Name, in: {param: names}}
    assert: {column: Status, eq: Running}
rationale: Users cannot connect otherwise.
remediation: {text: Start it., command: "Start-Service -Name {Name}"}
tests:
  - name: running
    data:
      exchange_server: [{Name: EX1, IsClientAccessServer: true, AdminDisplayVersion: "Version 15.2 (Build 1544.4)"}]
      service: [{Name: MSExchangePOP3, Status: Running, StartType: Automatic, MachineName: EX1}]
    expect: {outcome: pass}
  - name: stopped
    data:
      exchange_server: [{Name: EX1, IsClientAccessServer: true, AdminDisplayVersion: "Version 15.2 (Build 1544.4)"}]
      service: [{Name: MSExchangePOP3, Status: Stopped, StartType: Automatic, MachineName: EX1}]
    expect: {outcome: fail, failing: [EX1]}
"""


def _write(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_user_rule_with_a_join_and_a_parameter_loads_and_its_cases_pass(tmp_path: Path) -> None:
    rule = load_rule(_write(tmp_path, RULE))
    assert rule.datasets() == ["exchange_server", "service"]
    assert [r.passed for r in run_rule_tests([rule])] == [True, True]


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "message"),
    [
        (
            "assert: {column: Status, eq: Running}",
            "assert: {column: Status, eqq: Running}",
            12,
            30,
            "unknown key 'eqq'; did you mean 'eq'?",
        ),
        ("severity: medium", "severity: meduim", 3, 11, "'meduim' is not one of"),
        ("    dataset: service", "    dataset: servise", 10, 14, "unknown dataset 'servise'; did you mean 'service'?"),
        (
            "assert: {column: Status,",
            "assert: {column: Statuz,",
            12,
            22,
            "dataset 'service' has no column 'Statuz'; did you mean 'Status'?",
        ),
        ("in: {param: names}", "in: {param: namez}", 11, 39, "unknown parameter 'namez'; did you mean 'names'?"),
        ("tags: [readiness]", "tagz: [readiness]", 4, 1, "unknown key 'tagz'; did you mean 'tags'?"),
    ],
)
def test_errors_name_file_line_column_path_and_a_suggestion(
    tmp_path: Path, old: str, new: str, line: int, column: int, message: str
) -> None:
    assert old in RULE
    path = _write(tmp_path, RULE.replace(old, new))
    with pytest.raises(RuleError) as caught:
        load_rule(path)
    error = caught.value
    assert (error.line, error.column) == (line, column), str(error)
    assert message in error.message
    assert str(error).startswith(f"{path}:{line}:{column}: ")
    assert error.json_path.startswith("$")


def test_unused_parameter_duplicate_id_and_bad_yaml(tmp_path: Path) -> None:
    unused = RULE.replace("params:\n", "params:\n  spare: {type: integer, default: 3}\n")
    with pytest.raises(RuleError, match="'spare' is declared but never used"):
        load_rule(_write(tmp_path, unused))
    _write(tmp_path, RULE, "a.yaml")
    _write(tmp_path, RULE, "b.yaml")
    with pytest.raises(RuleError, match="duplicate rule id 'TEST-JOIN-001'"):
        load_rules([tmp_path])
    with pytest.raises(RuleError, match="not valid YAML") as caught:
        load_rule(_write(tmp_path, "id: [unclosed\n", "bad.yaml"))
    assert caught.value.line >= 1


def test_wrong_parameter_default_type_is_located(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="expected a list") as caught:
        load_rule(_write(tmp_path, RULE.replace("default: [MSExchangePOP3]", "default: 3")))
    assert caught.value.json_path == "$.params.names.default"


def test_the_rule_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(rule_schema())


# -- Meta-tests: every shipped rule meets the standard, and every case of every rule passes ------------------------


def test_shipped_rules_exist_and_have_unique_ids() -> None:
    assert SHIPPED
    assert len({rule.id for rule in SHIPPED}) == len(SHIPPED)


@pytest.mark.parametrize("rule", SHIPPED, ids=lambda r: r.id)
def test_shipped_rule_is_complete(rule: object) -> None:
    from analyzer.engine.loader import Rule

    assert isinstance(rule, Rule)
    assert rule.rationale.strip() and rule.remediation["text"].strip()
    outcomes = {case["expect"]["outcome"] for case in rule.tests}
    if rule.manual is not None:  # a person decides it: its one outcome is not_reviewed
        assert outcomes == {"not_reviewed"} and rule.manual.get("procedure_ja", "").strip()
    else:
        assert {"pass", "fail"} <= outcomes, "a rule needs at least one passing and one failing case"
    for language in ("title", "rationale"):
        assert rule.texts_ja.get(language, "").strip(), f"no Japanese {language}"
    assert rule.remediation.get("text_ja", "").strip(), "no Japanese remediation"
    # Every value is pasted into a command as its own single-quoted string: inside quotes it would close them.
    command = rule.remediation.get("command") or ""
    literals = re.findall(r"'(?:[^']|'')*'", command)  # PowerShell single-quoted strings, left to right
    assert not [
        text for text in literals if re.search(r"\{[A-Za-z_][A-Za-z0-9_]*(\[[A-Za-z_][A-Za-z0-9_]*\])?\}", text)
    ]


@pytest.mark.parametrize(
    ("rule_id", "case"),
    [(rule.id, case["name"]) for rule in SHIPPED for case in rule.tests],
)
def test_shipped_rule_case(rule_id: str, case: str) -> None:
    rule = next(r for r in SHIPPED if r.id == rule_id)
    [result] = [r for r in run_rule_tests([rule]) if r.case == case]
    assert result.passed, result.detail


def test_object_references_are_checked_against_the_checked_dataset_and_only_in_joins(tmp_path: Path) -> None:
    own = RULE.replace("assert: {column: Status, eq: Running}", "assert: {column: MachineName, eq: {object: Fqdn}}")
    assert load_rule(_write(tmp_path, own, "own.yaml")).id == "TEST-JOIN-001"
    typo = own.replace("{object: Fqdn}", "{object: Fqdm}")
    with pytest.raises(RuleError, match="dataset 'exchange_server' has no column 'Fqdm'"):
        load_rule(_write(tmp_path, typo, "typo.yaml"))
    outside = RULE.replace(
        "where: {column: IsClientAccessServer, eq: true}", "where: {column: Name, eq: {object: Fqdn}}"
    )
    with pytest.raises(RuleError, match="only works in a join"):
        load_rule(_write(tmp_path, outside, "outside.yaml"))


def test_a_python_tag_in_a_rule_file_is_refused_not_executed(tmp_path: Path) -> None:
    """Rule files load through PyYAML's C SafeLoader when it is there: the same safe constructor as yaml.safe_load,
    which refuses the tags that would build Python objects or call functions."""
    from analyzer.safe_yaml import _SAFE_LOADER

    assert issubclass(_SAFE_LOADER, yaml.constructor.SafeConstructor)
    marker = tmp_path / "ran"
    hostile = f"id: X-1\ntitle: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(RuleError, match="not valid YAML") as caught:
        load_rule(_write(tmp_path, hostile))
    assert caught.value.line == 2
    assert not marker.exists()


BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@pytest.mark.parametrize("kind", ["rule", "waivers", "policy"])
def test_an_alias_bomb_fails_fast_with_a_located_error(tmp_path: Path, kind: str) -> None:
    """Nine anchors of nine aliases each: 387 million values once expanded; refused in well under a second."""
    import time

    from analyzer.engine.waivers import load_waivers
    from analyzer.errors import ExauditError
    from analyzer.pipeline import load_policy

    path = _write(tmp_path, ("params:\n  " + BOMB.replace("\n", "\n  ")) if kind == "policy" else BOMB, f"{kind}.yaml")
    load = {"rule": load_rule, "waivers": load_waivers, "policy": load_policy}[kind]
    started = time.perf_counter()
    with pytest.raises(ExauditError, match="alias bomb") as caught:
        load(path)
    assert time.perf_counter() - started < 0.5
    assert f"{path}:" in str(caught.value) and f"{path}:0:" not in str(caught.value)  # located at its line


def test_deep_nesting_and_self_reference_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="nested more than"):
        load_rule(_write(tmp_path, "id: " + "[" * 500 + "]" * 500, "deep.yaml"))
    with pytest.raises(RuleError, match="refers to a node that contains it"):
        load_rule(_write(tmp_path, "id: &a [*a]\n", "self.yaml"))


def test_a_rule_file_edited_between_two_loads_is_read_again(tmp_path: Path) -> None:
    """Loaded rules are reused within a process (a batch loads the pack once per bundle), keyed by the bytes."""
    from analyzer.engine.loader import load_rules

    path = _write(tmp_path, RULE, "rule.yaml")
    first = load_rules([path])
    assert load_rules([path])[0] is first[0]  # the same bytes: not parsed again
    path.write_text(RULE.replace("severity: medium", "severity: low"), encoding="utf-8")
    assert load_rules([path])[0].severity == "low"


def test_a_whole_file_error_names_the_file_without_a_position(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RuleError) as caught:
        load_rules([missing])
    assert str(caught.value) == f"{missing}: no such rule file or folder"
    assert (caught.value.line, caught.value.column) == (0, 0)


def test_a_character_yaml_refuses_is_located_at_its_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: X\ntitle: a\x00b\n")
    with pytest.raises(RuleError) as caught:
        load_rule(path)
    assert (caught.value.line, caught.value.column) == (2, 9)
    assert str(caught.value).startswith(f"{path}:2:9: not valid YAML: unacceptable character #x0000")
