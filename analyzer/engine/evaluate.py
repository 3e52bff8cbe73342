"""Evaluating a rule over a bundle's datasets: outcome, reason and findings.

Three kinds of check, all computed on whole tables: `each` (every row in scope satisfies a condition), `count`
(how many rows satisfy one) and `for_each` + `join` (for every row of one dataset, its counterparts in another —
on the server key by default — satisfy a condition, with the missing counterpart handled explicitly).
A rule never passes on data it did not have: a missing dataset or column, a lossy column, or an incomplete
input turns a would-be pass into `not_evaluated`, with the reason and the cmdlet that supplies the data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import numpy as np
import pandas as pd

from analyzer.baselines.builds import Catalogue
from analyzer.engine import powershell
from analyzer.engine.conditions import (
    OBJECT_PREFIX,
    Context,
    column_name,
    columns_of,
    describe,
    evaluate,
    lookup_date,
    object_refs,
    with_object_columns,
)
from analyzer.engine.fingerprints import fingerprint, fingerprints, object_key, object_keys
from analyzer.engine.linear_regex import compile_linear
from analyzer.engine.loader import EVERY_ROW, Param, Rule, fits_type, regex_params
from analyzer.exchange.bundle import Dataset
from analyzer.exchange.catalog import BY_NAME
from analyzer.exchange.values import ServerVersion, parse_bool
from analyzer.hidden_chars import hidden_characters
from analyzer.japanese import in_japanese
from analyzer.memory import collector_paused
from analyzer.model import Finding, RuleResult, worst

# `{name}`, or `{name[column]}`: the entry of a `dates` parameter for the row's value (end of support by product).
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z_][A-Za-z0-9_]*)\])?\}")
PROVENANCE = ("server_key", "server_fqdn", "identity", "source_file", "source_line")


@dataclass
class Evidence:
    """What rules are evaluated against."""

    datasets: Mapping[str, Dataset]
    servers: pd.DataFrame
    as_of: dt.datetime
    overrides: dict[str, Any] = field(default_factory=dict)  # "name" or "RULE-ID.name" → value
    masks: dict[Any, Any] = field(default_factory=dict)  # comparison masks shared by the rules of one scan
    absent: Mapping[str, str] = field(default_factory=dict)  # datasets the bundle lacks → why (the manifest's word)
    failed_for: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (dataset, SERVER) → its failure
    builds: Catalogue | None = None  # the Exchange build catalogue given with --builds; None: the one shipped


class _NotEvaluated(Exception):
    """The rule cannot be judged on this bundle; the message says why (and `ja`, in Japanese)."""

    def __init__(self, message: str, ja: str | None = None) -> None:
        super().__init__(message)
        self.ja = ja


class _NotApplicable(Exception):
    def __init__(self, message: str, ja: str | None = None) -> None:
        super().__init__(message)
        self.ja = ja


# -- Parameters and templates ----------------------------------------------------------------------------


def _dates(value: Any) -> dict[str, str | None]:
    """A `dates` parameter from a mapping (policy file) or text (`Exchange 2016=2026-10-14; Exchange SE=none`)."""
    if isinstance(value, str):
        pairs = [item.split("=", 1) for item in value.split(";") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):  # a name and a date
            raise ValueError(f"expected NAME=YYYY-MM-DD pairs separated by ';', got {value!r}")
        value = {k.strip(): None if v.strip().lower() in ("", "none", "null") else v.strip() for k, v in pairs}
    if not isinstance(value, dict):
        raise ValueError(f"expected NAME=YYYY-MM-DD pairs, got {value!r}")
    dates: dict[str, str | None] = {}
    for name, date in value.items():
        text = None if date is None else str(date)  # YAML reads an unquoted 2026-10-14 as a date
        if text is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f"{name}: expected a date as YYYY-MM-DD or none, got {date!r}")
        if text is not None:
            try:
                dt.date.fromisoformat(text)
            except ValueError as error:
                raise ValueError(f"{name}: {text!r} is not a date ({error})") from None
        dates[str(name)] = text
    return dates


def coerce_param(kind: str, value: Any) -> Any:
    """A parameter value given as text (command line) or YAML, as the declared type."""
    if kind == "dates":
        return _dates(value)
    if not isinstance(value, str) or kind == "string":
        # A policy file's unquoted date reaches here as a date; a rule file's default must be quoted text.
        if not (fits_type(kind, value) or (kind == "date" and isinstance(value, dt.date))):
            raise ValueError(f"expected a {kind}, got {value!r}")
        return value
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        parsed = parse_bool(value)
        if parsed is None:
            raise ValueError(f"expected true or false, got {value!r}")
        return parsed
    if kind == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    if kind == "date":
        dt.date.fromisoformat(value)
    return value


def resolve_params(rule: Rule, overrides: Mapping[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, param in rule.params.items():
        value = overrides.get(f"{rule.id}.{name}", overrides.get(name, param.default))
        if value is None and param.site_value:  # unset: the rule waits for the site's value (not_reviewed)
            resolved[name] = None
            continue
        value = coerce_param(param.type, value)
        if param.type == "dates":  # an override changes the entries it names
            value = {**_dates(param.default), **value}
        if param.choices and value not in param.choices:
            raise ValueError(f"parameter {name} must be one of {list(param.choices)}, got {value!r}")
        _check_range(param, value)
        if name in regex_params(rule.check):
            compile_linear(str(value))  # a pattern RE2 cannot run stops the scan here, naming the construct
        resolved[name] = value
    return resolved


def _check_range(param: Param, value: Any) -> None:
    if param.type not in ("integer", "number") or isinstance(value, bool) or not isinstance(value, int | float):
        return
    low = -math.inf if param.minimum is None else param.minimum
    high = math.inf if param.maximum is None else param.maximum
    if not low <= value <= high or (isinstance(value, float) and math.isnan(value)):
        bounds = f"from {param.minimum:g}" if param.minimum is not None else ""
        bounds += f" to {param.maximum:g}" if param.maximum is not None else ""
        raise ValueError(f"parameter {param.name} must be a number {bounds.strip()}, got {value!r}")


def render(template: str, values: Mapping[str, Any], *, quote: bool, hidden: list[str] | None = None) -> str:
    """Fill `{name}` placeholders from `values`; no attribute access, no expressions. In commands (`quote`) every
    value is a single-quoted PowerShell string (`powershell.quote`), so a hostile display name cannot become a
    second command; the hidden characters of its values are added to `hidden` and shown as `<U+XXXX>`."""

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if match.group(2):
            value = _looked_up(value, values.get(match.group(2)))
        text = "" if value is None or value is pd.NA else _text(value)
        if not quote:
            return text
        found = hidden_characters(text)
        if found and hidden is not None:
            hidden.extend(found)
        return powershell.quote(powershell.shown(text) if found else text)

    return _PLACEHOLDER.sub(fill, template)


def render_commands(template: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """The command for each row, one a line without repeats; made inert when a value holds hidden characters."""
    hidden: list[str] = []
    commands = "\n".join(dict.fromkeys(render(template, row, quote=True, hidden=hidden) for row in rows))
    return powershell.inert(commands, list(dict.fromkeys(hidden))) if hidden else commands


def _looked_up(table: Any, key: Any) -> str | None:
    """A `dates` parameter's entry for `key`, as text ("none" when it lists no date, None when not listed)."""
    if not isinstance(table, Mapping) or key is None or key is pd.NA:
        return None
    found = lookup_date(table, key)
    return None if found is False else ("none" if found is None else str(found))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, float):  # sizes, limits and durations: Unlimited is infinity; whole numbers without ".0"
        if math.isinf(value):
            return "Unlimited" if value > 0 else "-Unlimited"
        if value.is_integer():
            return str(int(value))
    return str(value)


def _plain(column: pd.Series) -> list[Any]:
    """A column as a list of plain Python values, None where missing (converted once, not per finding)."""
    values: list[Any] = column.astype(object).where(column.notna().to_numpy(dtype=bool), None).tolist()
    return values


def _texts(series: pd.Series, missing: str) -> pd.Series:
    """A column as display text, vectorised where pandas can: booleans as True/False, lists joined."""
    if isinstance(series.dtype, pd.BooleanDtype):
        text = series.map({True: "True", False: "False"}).astype("string")
    elif isinstance(series.dtype, pd.StringDtype):
        text = series
    else:
        text = series.map(_text, na_action="ignore").astype("string")
    return text.fillna(missing)


def _render_column(template: str, rows: pd.DataFrame, shared: Mapping[str, Any], *, quote: bool) -> pd.Series:
    """`render` for many rows at once: literal parts and placeholder columns concatenated as string columns."""
    result = pd.Series("", index=rows.index, dtype="string")
    hidden_values: list[pd.Series] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        name, key = match.group(1), match.group(2)
        value = shared.get(name)
        if key:
            keys = rows[key] if key in rows else pd.Series(None, index=rows.index, dtype="object")
            column = keys.map(functools.partial(_looked_up, value)).astype("string").fillna("")
        elif isinstance(value, pd.Series):
            column = value
        elif name in shared:
            column = pd.Series(str(value), index=rows.index, dtype="string")
        elif name in rows:
            column = _texts(rows[name], "")
        else:
            column = pd.Series("", index=rows.index, dtype="string")
        if quote:
            hidden = powershell.has_hidden(column)
            if hidden.any():  # rare: the values as they were, to name their hidden characters below
                hidden_values.append(column[hidden])
                column = column.mask(hidden, column[hidden].map(powershell.shown))
            column = powershell.quote_column(column)
        result = result + template[position : match.start()] + column
        position = match.end()
    result = result + template[position:]
    if hidden_values:
        found: dict[Any, list[str]] = {}
        for values in hidden_values:
            for index, text in values.items():
                found.setdefault(index, []).extend(hidden_characters(str(text)))
        inert = {index: powershell.inert(str(result[index]), list(dict.fromkeys(c))) for index, c in found.items()}
        result = result.mask(result.index.isin(list(inert)), pd.Series(inert, dtype="string"))
    return result


# -- Scope ---------------------------------------------------------------------------------------------------


def _version(text: str) -> ServerVersion:
    parts = [int(p) for p in text.split(".")] + [0, 0, 0]
    return ServerVersion(*parts[:4])


def servers_in_scope(applies_to: Mapping[str, Any], servers: pd.DataFrame) -> set[str] | None:
    """Server keys the rule applies to; None when it names no product, version or role (all servers)."""
    if not {"products", "min_version", "max_version", "roles"} & set(applies_to):
        return None
    if servers.empty:
        raise _NotEvaluated(
            "no Get-ExchangeServer export: cannot tell which servers the rule applies to",
            "Get-ExchangeServer のエクスポートがないため、ルールが対象とするサーバーを判断できません",
        )
    keep = pd.Series(True, index=servers.index)
    if "products" in applies_to:
        keep &= servers["product"].isin(applies_to["products"])
    versions = (
        servers["AdminDisplayVersion"] if "AdminDisplayVersion" in servers else pd.Series(None, index=servers.index)
    )
    if "min_version" in applies_to:
        keep &= versions.map(lambda v: isinstance(v, ServerVersion) and v >= _version(applies_to["min_version"]))
    if "max_version" in applies_to:
        keep &= versions.map(lambda v: isinstance(v, ServerVersion) and v < _version(applies_to["max_version"]))
    for role in applies_to.get("roles", ()):
        keep &= servers.apply(lambda row, r=role: has_role(row, r), axis=1).astype(bool)
    return set(servers.loc[keep, "server_key"].dropna())


def has_role(server: pd.Series, role: str) -> bool:
    """IsClientAccessServer (and friends) first; the ServerRole flags only when those were not exported.
    An Edge server is never a Client Access or Mailbox server."""
    found = server.get("roles")
    roles: list[Any] = found if isinstance(found, list) else []
    if server.get("IsEdgeServer") is True or "Edge" in roles:
        return role == "Edge"
    column = {"ClientAccess": "IsClientAccessServer", "Mailbox": "IsMailboxServer", "Edge": "IsEdgeServer"}[role]
    flag = server.get(column)
    if flag is True or flag is False:
        return bool(flag)
    return role in roles


def _gate(applies_to: Mapping[str, Any], params: Mapping[str, Any], unset: Sequence[str] = ()) -> bool:
    """Whether every parameter gate of `applies_to.when` (one, or a list) holds; a gate on a site value still
    unset decides nothing (the rule waits for that value)."""
    when = applies_to.get("when") or []
    for gate in when if isinstance(when, list) else [when]:
        if gate["param"] in unset:
            continue
        value = params.get(gate["param"])
        if not (value == gate["eq"] if "eq" in gate else value in gate.get("in", [])):
            return False
    return True


# -- Evaluation ----------------------------------------------------------------------------------------------


def evaluate_rules(rules: Sequence[Rule], evidence: Evidence) -> list[RuleResult]:
    """Every rule, in order (the collector paused: a rule over a large organisation makes hundreds of thousands
    of finding tuples)."""
    with collector_paused():
        return [evaluate_rule(rule, evidence) for rule in rules]


def evaluate_rule(rule: Rule, evidence: Evidence) -> RuleResult:
    """The rule's result; a rule that breaks gives `error` and the run goes on."""
    evaluator: _Evaluator | None = None
    try:
        params = resolve_params(rule, evidence.overrides)
        unset = [name for name, param in rule.params.items() if param.site_value and params[name] is None]
        if not _gate(rule.applies_to, params, unset):  # not applicable, whatever site values are still unset
            raise _NotApplicable("not applicable with these parameters", "このパラメーターでは対象外です")
        waiting = _waiting_for_a_person(rule, unset)
        try:
            evaluator = _Evaluator(rule, evidence, params)  # a rule for servers the bundle lacks is not_applicable
        except _NotEvaluated:
            if waiting is not None:  # no server list to scope by: the item still waits for a person
                return waiting
            raise
        return _with_servers(waiting or evaluator.run(), evaluator)
    except _NotEvaluated as reason:
        return _with_servers(RuleResult(rule.id, "not_evaluated", str(reason), (), reason_ja=reason.ja), evaluator)
    except _NotApplicable as reason:
        return RuleResult(rule.id, "not_applicable", str(reason), (), reason_ja=reason.ja)
    except Exception as error:
        return _with_servers(RuleResult(rule.id, "error", f"{type(error).__name__}: {error}", ()), evaluator)


def _with_servers(result: RuleResult, evaluator: _Evaluator | None) -> RuleResult:
    """The result with the servers it speaks for — the rule's scope, or every server when it names none — and those
    of them no export had a row for, from which each server's own outcome follows (`server_outcomes`)."""
    if evaluator is None:
        return result
    servers = evaluator.evidence.servers
    everyone = set(servers["server_key"].dropna()) if len(servers) else set()
    scope = evaluator.scope if evaluator.scope is not None else everyone
    unsure = scope if evaluator.damaged else evaluator.absent  # a damaged input could hold any server's rows
    return dataclasses.replace(result, scope=tuple(sorted(scope)), absent=tuple(sorted(unsure)))


def _waiting_for_a_person(rule: Rule, unset_site_values: list[str]) -> RuleResult | None:
    """not_reviewed: a control no export decides (its procedure), or a site value the rule needs is unset."""
    if rule.manual is not None:
        procedure = rule.manual["procedure"]
        procedure_ja = rule.manual.get("procedure_ja", procedure)
        return RuleResult(rule.id, "not_reviewed", f"for a person to review: {procedure}", (),
                          reason_ja=f"担当者による確認が必要です: {procedure_ja}")  # fmt: skip
    if unset_site_values:
        names, first = ", ".join(unset_site_values), f"{rule.id}.{unset_site_values[0]}"
        how = f"a policy file's params, or --param {first}=VALUE"
        how_ja = f"ポリシーファイルの params、または --param {first}=値"
        return RuleResult(rule.id, "not_reviewed", f"needs the site's value for {names} ({how})", (),
                          reason_ja=f"サイトの値が必要です: {names}({how_ja})")  # fmt: skip
    return None


class _Evaluator:
    def __init__(self, rule: Rule, evidence: Evidence, params: dict[str, Any]) -> None:
        self.rule = rule
        self.evidence = evidence
        self.params = params
        self.context = Context(params, evidence.as_of, evidence.masks, builds=evidence.builds)
        self.scope = servers_in_scope(rule.applies_to, evidence.servers)
        if self.scope is not None and not self.scope:
            raise _NotApplicable(
                "no server in the bundle matches the rule's products, versions or roles",
                "ルールの製品、バージョン、役割に合うサーバーがバンドルにありません",
            )
        self.incomplete: list[str] = []
        self.incomplete_ja: list[str] = []
        self.absent: set[str] = set()  # servers in scope with no row in a per-server dataset the rule read
        self.damaged = False  # an input the rule read was damaged, cut off or not read: no server's pass is sure
        self.notes: list[str] = []  # facts about the evaluation a reader of the result should know
        self.names = _names_in(rule)
        # Templates may name the rule's parameters too (`-LoginType {login_type}`).
        # A `dates` parameter stays a mapping: `{support_end[product]}` looks a row's entry up in it.
        self.param_texts = {name: v if isinstance(v, dict) else _text(v) for name, v in params.items()}

    # -- data access ----------------------------------------------------------------------------------------
    def frame(self, dataset: str, condition_columns: list[str]) -> pd.DataFrame:
        spec = BY_NAME[dataset]
        found = self.evidence.datasets.get(dataset)
        if found is None:
            absent = self.evidence.absent.get(dataset)
            raise _NotEvaluated(
                f"no {dataset} data in the bundle: {absent or f'export it with {spec.cmdlet}'}",
                f"バンドルに {dataset} のデータがありません: "
                + (in_japanese(absent) if absent else f"{spec.cmdlet} でエクスポートしてください"),
            )
        frame = found.frame
        for name in condition_columns:
            actual = column_name(frame, name)
            if actual in found.lossy:
                raise _NotEvaluated(
                    f"{dataset}.{actual} is lossy in this export: {found.lossy[actual]}",
                    f"このエクスポートでは {dataset}.{actual} の値が失われています: {in_japanese(found.lossy[actual])}",
                )
            if actual in found.local_time and actual not in self.context.by_day:
                self.context.by_day.add(actual)
                self.notes.append(found.local_time[actual])
            column = spec.column(actual)
            exported = not found.exported or actual in found.exported  # no record of columns: assume it was
            if (
                len(frame)
                and frame[actual].isna().all()
                and column is not None
                and (not column.unset_is_a_value or not exported)
            ):
                if actual in found.unreadable:
                    raise _NotEvaluated(
                        f"{dataset}.{actual} could not be read: {found.unreadable[actual]}",
                        f"{dataset}.{actual} を読み取れませんでした: {in_japanese(found.unreadable[actual])}",
                    )
                raise _NotEvaluated(
                    f"{dataset}.{actual} is not in the export; export it with {spec.cmdlet}",
                    f"{dataset}.{actual} がエクスポートにありません。{spec.cmdlet} でエクスポートしてください",
                )
        damaged = found.described_sources()
        self.incomplete.extend(damaged)
        self.incomplete_ja.extend(found.described_sources(in_japanese))
        self.damaged = self.damaged or bool(damaged)
        if spec.per_server:
            if self.scope is not None:
                frame = self.rows_where(frame, frame["server_key"].isin(self.scope).to_numpy(dtype=bool))
            self.note_servers_without_rows(dataset, frame)
        elif self.scope is not None and not spec.about_edge and len(frame):
            frame = self.rows_where(frame, self.organisation_rows(frame["server_key"]))
            if not len(frame):  # every row was another server's own: none describes the servers in scope
                servers = ", ".join(sorted(self.scope))
                raise _NotEvaluated(
                    f"no {dataset} data exported on {servers} (the rows read belong to other servers); export it "
                    f"there with {spec.cmdlet}, in a folder named after the server",
                    f"{servers} でエクスポートされた {dataset} のデータがありません"
                    f" (読み取った行は他のサーバーのものです)。{spec.cmdlet} でそのサーバーでエクスポートし、"
                    "サーバー名のフォルダーに置いてください",
                )
        return frame

    def note_servers_without_rows(self, dataset: str, frame: pd.DataFrame) -> None:
        """A server in scope with no row at all in a per-server dataset was not exported, not judged: a pass over
        the servers that were is then no pass for the bundle. A rule that names no role or product speaks for every
        server: such a server is not judged in its own outcome (`server_outcomes`), the rule's stays as it was."""
        present = set(frame["server_key"].dropna())
        if self.scope is None:
            servers = self.evidence.servers
            self.absent.update(set(servers["server_key"].dropna()) - present if len(servers) else set())
            return
        absent = sorted(self.scope - present)
        self.absent.update(absent)
        if absent:
            names = ", ".join(absent)
            self.incomplete.append(f"no {dataset} rows for {names}")
            self.incomplete_ja.append(f"{names} の {dataset} の行がありません")

    def organisation_rows(self, origins: pd.Series) -> Any:
        """Organisation-wide rows a rule scoped to some servers reads: those exported on a server in scope (the
        folder, file name or manifest names it), and those of no server in particular. An Edge server keeps its
        own configuration, apart from the organisation's: a rule for Edge servers reads rows of no server only
        when the bundle holds Edge servers alone."""
        in_scope = origins.isin(self.scope or set()).fillna(False).to_numpy(dtype=bool)
        unattributed = origins.isna().to_numpy(dtype=bool)
        if list(self.rule.applies_to.get("roles", ())) == ["Edge"]:
            servers = self.evidence.servers
            only_edge = bool(servers.apply(lambda row: has_role(row, "Edge"), axis=1).all())
            return in_scope | (unattributed & only_edge)
        return in_scope | unattributed

    def rows_where(self, frame: pd.DataFrame, keep: Any) -> pd.DataFrame:
        """The rows where `keep` (a numpy bool array) is true. The frame itself when that is every row (its
        masks stay cached); otherwise a copy of only the columns this rule can read, since a copy of a whole
        500,000-row table costs hundreds of MB."""
        if bool(keep.all()):
            return frame
        always = {*PROVENANCE, "server_name", "source_index", "source_format", "DisplayName"}
        labels = {name for spec in BY_NAME.values() for name in spec.label}
        columns = [c for c in frame.columns if c in always or c in labels or str(c).lower() in self.names]
        narrowed: pd.DataFrame = frame[columns]
        return cast(pd.DataFrame, narrowed[keep])

    # -- outcomes -------------------------------------------------------------------------------------------
    def result(self, findings: list[Finding], evaluated: int, empty_outcome: str | None = None) -> RuleResult:
        # Findings arrive ordered (bulk ones by server and object, in pandas); their order is deterministic.
        # Nothing in scope is a pass only when the input was whole: a server in scope exported no rows at all.
        if empty_outcome is not None and not (empty_outcome == "pass" and self.incomplete):
            return RuleResult(
                self.rule.id,
                empty_outcome,
                "no object in scope",
                tuple(findings),
                0,
                reason_ja="対象のオブジェクトがありません",
            )
        notes = "; ".join(self.notes) or None  # how the data was read, said beside the outcome
        notes_ja = in_japanese(notes) if notes else None
        if any(f.outcome == "fail" for f in findings):
            return RuleResult(self.rule.id, "fail", notes, tuple(findings), evaluated, reason_ja=notes_ja)
        if findings:
            return RuleResult(
                self.rule.id,
                "not_evaluated",
                "some objects could not be judged",
                tuple(findings),
                evaluated,
                reason_ja="判定できなかったオブジェクトがあります",
            )
        if self.incomplete:  # before the notes: a pass on incomplete input is never given, with or without them
            files, files_ja = (", ".join(sorted(set(sources))) for sources in (self.incomplete, self.incomplete_ja))
            english, japanese = (
                ("would pass, but the input may be incomplete", "合格になりますが、入力が不完全な可能性があります")
                if empty_outcome is None
                else (
                    "nothing in scope to judge, and the input may be incomplete",
                    "判定する対象がなく、入力が不完全な可能性があります",
                )
            )
            return RuleResult(self.rule.id, "not_evaluated", f"{english}: {files}", (), evaluated,
                              reason_ja=f"{japanese}: {files_ja}")  # fmt: skip
        return RuleResult(self.rule.id, "pass", notes, (), evaluated, reason_ja=notes_ja)

    def finding(self, outcome: str, dataset: str, row: Mapping[str, Any], fields: list[str], expected: str,
                observed: str | None = None, counterparts: list[dict[str, Any]] | None = None,
                observed_ja: str | None = None) -> Finding:  # fmt: skip
        """A finding about `row`. For a join, `counterparts` are the offending rows of the joined dataset: they
        fill the templates (one command each) and are the evidence the finding cites. `observed_ja` is the
        observation in Japanese where the engine words it (a value read from a file stays as read)."""
        label = next((_text(row[c]) for c in BY_NAME[dataset].label if c in row and not _missing(row[c])), "")
        label = _with_display_name(dataset, label, row.get("DisplayName"), row.get("PrimarySmtpAddress"))
        server = None if _missing(row.get("server_key")) else str(row["server_key"])
        display_server = row.get("server_fqdn") if not _missing(row.get("server_fqdn")) else server
        evidence = (counterparts or [dict(row)])[:5]
        first = dict(row) | evidence[0]
        observed_text = (
            observed
            if observed is not None
            else "; ".join(
                f"{name}={_text(first[name]) if not _missing(first.get(name)) else '(no value)'}" for name in fields
            )
        )
        shared = {**self.param_texts, "object": label, "observed": observed_text,
                  "expected": self.expected_en(expected), "server": display_server}  # fmt: skip
        japanese_parts = {"observed": observed_ja or observed_text, "expected": self.expected_ja(None, expected)}
        template, template_ja = self.templates(outcome)
        command = self.rule.remediation.get("command")
        remediation = None
        if command and outcome == "fail":
            remediation = render_commands(command, [dict(row) | item | shared for item in evidence])
        line = first.get("source_line")
        identity = row.get("identity")
        identity_text = None if _missing(identity) else str(identity)
        return Finding(
            fingerprint=fingerprint(self.rule.id, dataset, server, identity_text),
            rule_id=self.rule.id,
            outcome=outcome,
            object=label,
            server=server,
            dataset=dataset,
            field=", ".join(fields),
            observed=observed_text,
            expected=expected,
            message=render(template, first | shared, quote=False),
            remediation=remediation,
            source_file=None if _missing(first.get("source_file")) else str(first["source_file"]),
            source_line=int(line) if line is not None and not _missing(line) else None,
            message_ja=render(template_ja, first | shared | japanese_parts, quote=False),
            object_key=object_key(dataset, server, identity_text),
            observed_ja=observed_ja,
        )

    def expected_en(self, condition: str) -> str:
        """What an English message says was expected: the rule's own sentence, else the condition as written."""
        return self.rule.expected or condition

    def expected_ja(self, given: str | None, expected: str) -> str:
        """What a Japanese message says was expected: `given`, else the rule's own sentence, else the condition
        as written (an expression: identifiers and values)."""
        return given or self.rule.texts_ja.get("expected") or expected

    def templates(self, outcome: str) -> tuple[str, str]:
        """The English and Japanese message templates for a finding with this outcome."""
        if outcome == "fail":
            english = self.rule.message or "{object}: {observed}; expected {expected}"
            japanese = self.rule.texts_ja.get("message") or "{object}: {observed}。期待値: {expected}"
            return english, japanese
        return (
            "{object}: could not be judged ({observed}); expected {expected}",
            "{object}: 判定できません ({observed})。期待値: {expected}",
        )

    # -- checks ---------------------------------------------------------------------------------------------
    def run(self, check: Mapping[str, Any] | None = None) -> RuleResult:
        check = self.rule.check if check is None else check
        if "all_of" in check:
            return self.all_of(check["all_of"])
        if "each" in check:
            return self.each(check)
        if "count" in check:
            return self.count(check)
        return self.join(check)

    def all_of(self, parts: Sequence[Mapping[str, Any]]) -> RuleResult:
        """A control with several parts: each is judged alone (one part's missing data does not hide another's
        failure), then the worst outcome wins — fail, then not evaluated, then pass; not applicable only if every
        part is."""
        results = []
        for part in parts:
            try:
                results.append(self.run(part))
            except _NotEvaluated as reason:
                results.append(RuleResult(self.rule.id, "not_evaluated", str(reason), (), reason_ja=reason.ja))
            except _NotApplicable as reason:
                results.append(RuleResult(self.rule.id, "not_applicable", str(reason), (), reason_ja=reason.ja))
        judged = [r for r in results if r.outcome != "not_applicable"] or results
        outcome = worst(r.outcome for r in judged)
        reasons = [(r.reason, r.reason_ja or r.reason) for r in judged if r.outcome == outcome and r.reason]
        findings = sorted((f for r in results for f in r.findings), key=lambda f: (f.server or "", f.object, f.outcome))
        return RuleResult(
            self.rule.id,
            outcome,
            "; ".join(dict.fromkeys(en for en, _ja in reasons)) or None,
            tuple(findings),
            sum(r.evaluated for r in results),
            reason_ja="; ".join(dict.fromkeys(ja for _en, ja in reasons if ja)) or None,
        )

    def scoped(self, scope: Mapping[str, Any], also: list[str]) -> tuple[pd.DataFrame, list[Finding]]:
        """Rows in scope, and a not_evaluated finding for each row whose scope could not be decided."""
        dataset = scope["dataset"]
        frame = self.excluding(self.frame(dataset, columns_of(scope.get("where")) + also), scope.get("exclude"))
        mask = evaluate(scope.get("where"), frame, self.context)
        fields = columns_of(scope.get("where"))
        expected = f"known {', '.join(fields)} to decide the scope"
        expected_ja = f"対象を決めるための {', '.join(fields)} の値"
        findings = self.bulk_findings(
            "not_evaluated", dataset, frame, mask.isna().to_numpy(dtype=bool), fields, expected, expected_ja
        )
        return self.rows_where(frame, mask.fillna(False).to_numpy(dtype=bool)), findings

    def excluding(self, frame: pd.DataFrame, exclude: Mapping[str, Any] | None) -> pd.DataFrame:
        """Leave out the rows that match an excluded row of another dataset; without it, leave out nothing and
        say so in the result (the scope is then wider than the rule meant)."""
        if not exclude:
            return frame
        other = self.evidence.datasets.get(exclude["dataset"])
        if other is None:
            self.notes.append(f"no {exclude['dataset']} data, so nothing was left out of the scope "
                              f"(export it with {BY_NAME[exclude['dataset']].cmdlet})")  # fmt: skip
            return frame
        key = exclude.get("key", "identity")
        matches = other.frame[evaluate(exclude["where"], other.frame, self.context).fillna(False).to_numpy(dtype=bool)]
        excluded = set(matches[column_name(matches, key)].astype("string").str.lower().dropna())
        keys = frame[column_name(frame, key)].astype("string").str.lower()
        return self.rows_where(frame, ~keys.isin(excluded).fillna(False).to_numpy(dtype=bool))

    def each(self, check: Mapping[str, Any]) -> RuleResult:
        dataset = check["each"]["dataset"]
        fields = columns_of(check.get("assert"))
        frame, findings = self.scoped(check["each"], fields)
        if frame.empty and not findings:
            return self.result([], 0, check.get("when_empty", "pass"))
        truth = evaluate(check.get("assert"), frame, self.context)
        expected = describe(check.get("assert"), self.params)
        failing = (truth == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - nullable boolean
        findings.extend(self.bulk_findings("fail", dataset, frame, failing, fields, expected))
        unknown = truth.isna().to_numpy(dtype=bool)
        findings.extend(self.bulk_findings("not_evaluated", dataset, frame, unknown, fields, expected))
        return self.result(findings, len(frame))

    def bulk_findings(self, outcome: str, dataset: str, frame: pd.DataFrame, selected: Any, fields: list[str],
                      expected: str, expected_ja: str | None = None) -> list[Finding]:  # fmt: skip
        """Findings for the `selected` rows of `frame`, built column by column (a row rule can fail thousands of
        mailboxes). Only the columns a finding shows are copied, in finding order: by server, then identity."""
        positions = np.flatnonzero(selected)
        if not len(positions):
            return []
        templates = [
            t for t in (self.rule.message, self.rule.texts_ja.get("message"), self.rule.remediation.get("command")) if t
        ]
        placeholders = [name for t in templates for found in _PLACEHOLDER.findall(t) for name in found if name]
        labels = BY_NAME[dataset].label
        named = ("DisplayName",) if dataset in _MAILBOXES else ()
        wanted = [*labels, *named, *PROVENANCE, *(column_name(frame, f) for f in fields), *placeholders]
        copied = [c for c in dict.fromkeys(wanted) if c in frame.columns]
        order = [
            frame[c].take(positions).astype("string").fillna("").to_numpy(dtype=object)
            for c in ("identity", "server_key")  # lexsort sorts by the last key first
            if c in frame.columns
        ]
        if order:
            positions = positions[np.lexsort(order)]
        rows = frame[copied].take(positions)
        missing = pd.Series(pd.NA, index=rows.index, dtype="string")
        label = pd.Series("", index=rows.index, dtype="string")
        for name in reversed(labels):
            if name in rows:
                label = _texts(rows[name], "").mask(rows[name].isna().to_numpy(dtype=bool), label)
        if named and "DisplayName" in rows and "PrimarySmtpAddress" in rows:
            display, address = rows["DisplayName"].astype("string"), rows["PrimarySmtpAddress"].astype("string")
            both = (display.notna() & address.notna() & (display != address)).fillna(False).to_numpy(dtype=bool)
            label = label.mask(both, display + " <" + address + ">")
        server = rows["server_key"].astype("string") if "server_key" in rows else missing
        fqdn = rows["server_fqdn"].astype("string") if "server_fqdn" in rows else missing
        observed = pd.Series("", index=rows.index, dtype="string")
        for position, name in enumerate(fields):
            prefix = ("; " if position else "") + f"{name}="
            observed = observed + prefix + _texts(rows[column_name(rows, name)], "(no value)")
        shared = {**self.param_texts, "object": label, "observed": observed, "expected": self.expected_en(expected),
                  "server": fqdn.fillna(server).fillna("")}  # fmt: skip
        template, template_ja = self.templates(outcome)
        messages = _render_column(template, rows, shared, quote=False)
        messages_ja = _render_column(template_ja, rows, shared | {"expected": self.expected_ja(expected_ja, expected)},
                                     quote=False)  # fmt: skip
        command = self.rule.remediation.get("command")
        commands: Any = _render_column(command, rows, shared, quote=True) if command and outcome == "fail" else None
        identity = rows.get("identity", missing)
        lines = rows.get("source_line", missing)
        files = rows.get("source_file", missing)
        field_text = ", ".join(fields)
        count = len(rows)
        columns = (
            fingerprints(self.rule.id, dataset, server, identity), [self.rule.id] * count, [outcome] * count,
            label.tolist(), _plain(server),
            [dataset] * count, [field_text] * count, observed.tolist(), [expected] * count, messages.tolist(),
            _plain(commands if commands is not None else missing), _plain(files), _plain(lines), messages_ja.tolist(),
            object_keys(dataset, server, identity), [None] * count, [None] * count,
        )  # fmt: skip
        # Finding is a NamedTuple: building each one with tuple.__new__ keeps the whole loop in C.
        return list(map(partial(tuple.__new__, Finding), zip(*columns, strict=True)))

    def count(self, check: Mapping[str, Any]) -> RuleResult:
        dataset = check["count"]["dataset"]
        fields = columns_of(check.get("matching"))
        frame, findings = self.scoped(check["count"], fields)
        truth = evaluate(check.get("matching"), frame, self.context)
        certain, unknown = int((truth == True).sum()), int(truth.isna().sum())  # noqa: E712 - nullable
        total = len(frame)
        expected_parts, verdicts = [], []
        possible = certain + unknown  # (surely, possibly) met, from the rows known true and those unknown
        if "at_least" in check:
            limit = self._number(check["at_least"])
            verdicts.append((certain >= limit, possible >= limit))
            expected_parts.append(f"at least {limit:g}")
        if "at_most" in check:
            limit = self._number(check["at_most"])
            verdicts.append((possible <= limit, certain <= limit))
            expected_parts.append(f"at most {limit:g}")
        if "ratio_at_least" in check:
            limit = self._number(check["ratio_at_least"])
            share = [(n / total if total else 0.0) for n in (certain, certain + unknown)]
            verdicts.append((share[0] >= limit, share[1] >= limit))
            expected_parts.append(f"a share of at least {limit:.0%}")
        matching = check.get("matching")
        where = f" where {describe(matching, self.params)}" if matching else ""
        expected = f"{' and '.join(expected_parts)} {dataset} row(s){where}"
        observed = f"{certain} of {total}" + (f" ({unknown} unknown)" if unknown else "")
        organisation = {"identity": dataset, "Name": f"{dataset} ({total} rows)", "server_key": None}
        if all(sure for sure, _possible in verdicts):
            return self.result(findings, total)
        outcome = "fail" if not all(possible for _sure, possible in verdicts) else "not_evaluated"
        findings.append(self.finding(outcome, dataset, organisation, fields, expected, observed))
        return self.result(findings, total)

    def _number(self, value: Any) -> float:
        return float(self.params[value["param"]] if isinstance(value, dict) else value)

    def join(self, check: Mapping[str, Any]) -> RuleResult:
        left_scope, join = check["for_each"], check["join"]
        left_name, right_name = left_scope["dataset"], join["dataset"]
        on = join.get("key", "server_key")
        left_key, right_key = _join_keys(on)
        # `{object: Column}` in the join's conditions reads the checked object's own value (X509CertificateName
        # against a certificate's names): the counterparts are then judged pair by pair.
        where, assert_ = with_object_columns(join.get("where")), with_object_columns(join.get("assert"))
        fields = columns_of(assert_)
        refs = sorted({ref for c in (join.get("where"), join.get("assert")) for ref in object_refs(c)})
        every = on == EVERY_ROW  # an organisation-wide counterpart: every object is judged against every row
        left, findings = self.scoped(left_scope, refs if every else [*refs, left_key])
        if left.empty and not findings:
            return self.result([], 0, check.get("when_empty", "pass"))
        right = self.frame(right_name, columns_of(where) + columns_of(assert_) + ([] if every else [right_key]))
        if every:
            left, right = left.assign(**{left_key: EVERY_ROW}), right.assign(**{right_key: EVERY_ROW})
        left_on, right_on = column_name(left, left_key), column_name(right, right_key)
        left = left.assign(_object=range(len(left)))
        right, groups = _counterparts(left, right, left_on, right_on, refs)
        present = set(groups.dropna())  # objects with counterpart data at all, before `where` narrows it
        chosen = evaluate(where, right, self.context).fillna(False).to_numpy(dtype=bool)
        right, groups = right[chosen], groups[chosen]
        truth = evaluate(assert_, right, self.context)
        known = truth.astype("boolean")
        summary = _counts_by_key(
            groups.to_numpy(),
            known.fillna(False).to_numpy(dtype=bool),
            (~known).fillna(False).to_numpy(dtype=bool),
            known.isna().to_numpy(dtype=bool),
        )
        require = join.get("require", "all")
        said = describe(join.get("where"), self.params)
        expected = f"{right_name} where {said}: {require} with {describe(join.get('assert'), self.params)}"
        missing_outcome = join.get("missing", "not_evaluated")
        for row in left.pipe(_rows):
            key = row.get(left_on)
            group = str(row["_object"]) if refs else (None if _missing(key) else str(key).upper())
            stats = summary.get(group) if group is not None else None
            if stats is None:
                cmdlet = BY_NAME[right_name].cmdlet
                if group not in present:  # nothing exported for it: never a pass, never a failure
                    why = self.evidence.failed_for.get((right_name, group or "")) or f"export with {cmdlet}"
                    unseen, unseen_ja = (
                        f"no {right_name} data for it ({why})",
                        f"{right_name} のデータがありません ({in_japanese(why)})",
                    )
                    findings.append(self.finding("not_evaluated", left_name, row, fields, expected, unseen,
                                                 observed_ja=unseen_ja))  # fmt: skip
                elif missing_outcome != "pass":
                    findings.append(self.finding(missing_outcome, left_name, row, fields, expected,
                                                 f"no {right_name} where {said}",
                                                 observed_ja=f"条件に合う {right_name} がありません"))  # fmt: skip
                continue
            outcome = _join_outcome(require, int(stats["t"]), int(stats["f"]), int(stats["u"]))
            if outcome != "pass":
                offending = _offending(groups == group, truth, require, outcome)
                bad = right[offending]
                observed = "; ".join(
                    ", ".join(
                        f"{n}={_text(r[n]) if not _missing(r.get(n)) else '(no value)'}"
                        for n in [*_counterpart_names(right_name, r, fields), *fields]
                    )
                    for r in bad.head(5).pipe(_rows)
                )
                findings.append(
                    self.finding(outcome, left_name, row, fields, expected, observed, bad.head(5).pipe(_rows))
                )
        findings.sort(key=lambda f: (f.server or "", f.object, f.outcome))
        return self.result(findings, len(left))


def _counterparts(left: pd.DataFrame, right: pd.DataFrame, left_on: str, right_on: str,
                  refs: list[str]) -> tuple[pd.DataFrame, pd.Series]:  # fmt: skip
    """The counterpart rows and the object each belongs to: by key, or — where the join's conditions read the
    object's own values ({object: Column}) — one row per pair, judged pair by pair."""
    if not refs:
        return right, right[right_on].astype("string").str.upper()
    own = left[[left_on, "_object", *refs]].rename(columns={r: OBJECT_PREFIX + r for r in refs})
    own["_key"] = own.pop(left_on).astype("string").str.upper()
    paired = right.assign(_key=right[right_on].astype("string").str.upper()).merge(own, on="_key")
    return paired, paired["_object"].astype("string")


def _join_keys(on: str | Mapping[str, str]) -> tuple[str, str]:
    """The columns a join matches on: one name, `{object, counterpart}`, or a made-up column for `*`."""
    if isinstance(on, Mapping):
        return on["object"], on["counterpart"]
    return ("_every", "_every") if on == EVERY_ROW else (on, on)


# Mailboxes are named as admins know them: display name and primary SMTP address.
_MAILBOXES = frozenset({"cas_mailbox", "mailbox"})


def _with_display_name(dataset: str, label: str, display: Any, address: Any) -> str:
    if dataset not in _MAILBOXES or _missing(display) or _missing(address) or str(display) == str(address):
        return label
    return f"{display} <{address}>"


# How an admin tells one counterpart from another: a certificate by its thumbprint and subject.
_COUNTERPART_NAMES: dict[str, tuple[str, ...]] = {"exchange_certificate": ("Thumbprint", "Subject")}


def _counterpart_names(dataset: str, row: Mapping[str, Any], fields: list[str]) -> list[str]:
    """The columns that name a counterpart row in an observed value: the dataset's own (a certificate's thumbprint
    and subject), else its first label with a value — never one that only repeats the object's server (`Server`)
    or carries no meaning (Get-PopSettings' `Name` is always 1)."""
    named: tuple[str, ...] | None = _COUNTERPART_NAMES.get(dataset)
    if named is None:  # the first naming column with a value (a service's Name, a component's Component)
        spec = BY_NAME[dataset]
        naming = [n for n in spec.label if n in spec.identity or n in ("Name", "Component")]
        named = tuple(n for n in naming if not _missing(row.get(n)))[:1]
    return [n for n in named if not _missing(row.get(n)) and n not in fields]


def _counts_by_key(keys: Any, true: Any, false: Any, unknown: Any) -> dict[Any, dict[str, int]]:
    """Per key (missing keys left out), how many rows are true, false and unknown. factorize and bincount: a
    groupby's fixed cost, paid by every join rule, was most of a join's time on the few rows of a server table."""
    codes, uniques = pd.factorize(keys)  # -1 for a missing key
    kept = codes >= 0
    codes = codes[kept]
    sums = [np.bincount(codes, weights=flags[kept], minlength=len(uniques)) for flags in (true, false, unknown)]
    return {key: {"t": int(t), "f": int(f), "u": int(u)} for key, t, f, u in zip(uniques, *sums, strict=True)}


def _offending(same_key: pd.Series, truth: pd.Series, require: str, outcome: str) -> Any:
    """The counterpart rows that make a joined object fail (or leave it unjudged), as a boolean array."""
    rows = same_key.to_numpy(dtype=bool)
    if require == "all":
        bad = (truth == False) | (truth.isna() if outcome == "not_evaluated" else False)  # noqa: E712 - nullable
        return rows & bad.fillna(False).to_numpy(dtype=bool)
    if require == "none":
        return rows & (truth == True).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - nullable
    return rows


def _names_in(rule: Rule) -> frozenset[str]:
    """Every name the rule could read a column by, lower-cased: each string in its check (column names sit in
    conditions, keys and fields) and each placeholder of its templates. A generous superset, never too few."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                found.add(str(key).lower())
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.add(node.lower())

    walk(rule.check)
    templates = (rule.message, rule.texts_ja.get("message"), rule.remediation.get("command"))
    found.update(name.lower() for t in templates if t for match in _PLACEHOLDER.findall(t) for name in match if name)
    return frozenset(found)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as dicts keyed by column name (only the few rows that become findings)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _join_outcome(require: str, true: int, false: int, unknown: int) -> str:
    if require == "all":
        return "fail" if false else ("not_evaluated" if unknown else "pass")
    if require == "any":
        return "pass" if true else ("not_evaluated" if unknown else "fail")
    return "fail" if true else ("not_evaluated" if unknown else "pass")  # none


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)  # noqa: PLR0124
