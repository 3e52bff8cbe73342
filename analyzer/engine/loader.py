"""Rule files → validated `Rule` objects. Every error names the file, line and column, the JSON path, and for a
misspelt key or operator the nearest valid name.

YAML is read with `yaml.safe_load` (no tags, no code); a second pass over the composed node tree records where
each value and key stands, so schema errors can be located.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from analyzer.engine import rule_cache
from analyzer.engine.conditions import object_refs
from analyzer.engine.linear_regex import PatternError, compile_linear
from analyzer.errors import ExauditError
from analyzer.exchange.catalog import BY_NAME
from analyzer.exchange.normalise import PROVENANCE_COLUMNS

if TYPE_CHECKING:  # imported where used: a scan whose rules come from the cache needs neither
    import jsonschema
    import yaml

Path_ = tuple[str | int, ...]
DERIVED_COLUMNS = (*PROVENANCE_COLUMNS, "server_key", "server_fqdn", "source_format")
EXTRA_COLUMNS = {"exchange_server": ("product", "version")}
SEVERITIES = ("critical", "high", "medium", "low", "info")


class RuleError(ExauditError):
    """A rule file that does not load: `path:line:column: message (at json.path)`."""

    def __init__(self, path: str, line: int, column: int, message: str, json_path: str = "") -> None:
        where = f" (at {json_path})" if json_path else ""
        position = f":{line}:{column}" if line else ""  # 0: the file as a whole (unreadable, missing)
        super().__init__(f"{path}{position}: {message}{where}")
        self.path, self.line, self.column, self.message, self.json_path = path, line, column, message, json_path


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str = ""
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    site_value: bool = False  # from the site's plan: no default, and the rule is not_reviewed while it is unset


@dataclass(frozen=True)
class Rule:
    """A loaded rule. `check`, `applies_to` and `verdict` stay plain data; the evaluator compiles them."""

    id: str
    title: str
    severity: str
    check: dict[str, Any]
    rationale: str
    remediation: dict[str, str]
    source: str
    tags: tuple[str, ...] = ()
    description: str = ""
    applies_to: dict[str, Any] = field(default_factory=dict)
    requires: tuple[dict[str, Any], ...] = ()
    params: dict[str, Param] = field(default_factory=dict)
    message: str | None = None
    references: tuple[str, ...] = ()
    tests: tuple[dict[str, Any], ...] = ()
    verdict: dict[str, Any] = field(default_factory=dict)
    texts_ja: dict[str, str] = field(default_factory=dict)
    expected: str | None = None  # what a passing object looks like, in words (the condition stays in report.json)
    controls: tuple[dict[str, Any], ...] = ()  # the baseline items (STIG, CIS) the rule decides

    @property
    def manual(self) -> dict[str, str] | None:
        """A control no export can decide: the procedure a person follows (its outcome is always not_reviewed)."""
        manual: dict[str, str] | None = self.check.get("manual")
        return manual

    def parts(self) -> list[dict[str, Any]]:
        """The checks the rule makes: its one check, or each part of an `all_of`."""
        parts: list[dict[str, Any]] = self.check.get("all_of", [self.check])
        return parts

    def datasets(self) -> list[str]:
        """Every dataset the rule reads, in the order it names them."""
        names: list[str] = []
        for part in self.parts():
            names.extend(scope["dataset"] for key in ("each", "count", "for_each") if (scope := part.get(key)))
            if "join" in part:
                names.append(part["join"]["dataset"])
        names.extend(item["dataset"] for item in self.requires)
        return list(dict.fromkeys(names))


@cache
def rule_schema() -> dict[str, Any]:
    text = (resources.files("analyzer.engine") / "rule.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# -- YAML with positions -----------------------------------------------------------------------------------


def _marks(
    node: yaml.Node, path: Path_, values: dict[Path_, tuple[int, int]], keys: dict[Path_, tuple[int, int]]
) -> None:
    import yaml

    values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _marks(value_node, (*path, key), values, keys)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _marks(item, (*path, index), values, keys)


@dataclass
class _Located:
    path: str
    data: Any
    values: dict[Path_, tuple[int, int]]
    keys: dict[Path_, tuple[int, int]]

    def error(self, at: Path_, message: str, *, key: bool = False) -> RuleError:
        where = self.keys.get(at) if key else None
        if where is None:
            probe = at
            while probe not in self.values and probe:
                probe = probe[:-1]
            where = self.values.get(probe, (1, 1))
        return RuleError(self.path, where[0], where[1], message, _json_path(at))


def _json_path(at: Path_) -> str:
    text = "$"
    for part in at:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _position(error: yaml.YAMLError, text: str) -> tuple[int, int]:
    """Line and column (from 1) of a YAML error: its mark, or for a character YAML refuses (a NUL, a control
    character) the offset the reader gives."""
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return mark.line + 1, mark.column + 1
    offset = getattr(error, "position", None)
    if isinstance(offset, int):
        return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
    return 0, 0


def _read(path: Path, what: str = "rule file") -> _Located:
    import yaml

    from analyzer import safe_yaml

    display = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(display, 0, 0, f"cannot read the {what}: {error}") from None
    try:
        node, data = safe_yaml.compose_and_construct(text)
    except yaml.YAMLError as error:
        line, column = _position(error, text)
        raise RuleError(display, line, column, f"not valid YAML: {getattr(error, 'problem', error)}") from None
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    if node is not None:
        _marks(node, (), values, keys)
    return _Located(display, data, values, keys)


# -- Schema errors, made helpful ------------------------------------------------------------------------------


def _leaves(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if error.context:
        for child in error.context:
            yield from _leaves(child)
    else:
        yield error


def _allowed_keys(schema: Any) -> list[str]:
    return sorted(schema.get("properties", {})) if isinstance(schema, dict) else []


def _explain(located: _Located, errors: list[jsonschema.ValidationError]) -> RuleError:
    leaves = [leaf for error in errors for leaf in _leaves(error)]
    # A misspelt key or operator shows as an unexpected property somewhere; it is the likeliest mistake.
    candidates = [e for e in leaves if e.validator == "additionalProperties" and isinstance(e.instance, dict)]

    # Of the schema branches that rejected a key, the one that accepts most of the mapping's keys is the one
    # the author meant (a comparison with a misspelt operator, not an `all:` block).
    def fit(error: jsonschema.ValidationError) -> tuple[int, int]:
        allowed = _allowed_keys(error.schema)
        instance = cast(dict[Any, Any], error.instance)
        return (sum(key not in allowed for key in instance), -len(error.absolute_path))

    for leaf in sorted(candidates, key=fit):
        allowed = _allowed_keys(leaf.schema)
        mapping = cast(dict[Any, Any], leaf.instance)
        unexpected = [str(key) for key in mapping if key not in allowed]
        if unexpected:
            key = unexpected[0]
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(allowed)}"
            return located.error((*leaf.absolute_path, key), f"unknown key {key!r}{hint}", key=True)
    import jsonschema

    best = jsonschema.exceptions.best_match(errors)
    at = tuple(best.absolute_path)
    message = best.message
    if best.validator == "enum":
        close = difflib.get_close_matches(str(best.instance), [str(v) for v in best.validator_value], n=1, cutoff=0.5)
        message = f"{best.instance!r} is not one of {best.validator_value}" + (
            f"; did you mean {close[0]!r}?" if close else ""
        )
    elif best.validator == "required":
        message = best.message.replace("is a required property", "is required here")
    return located.error(at, message)


# -- Semantic checks ----------------------------------------------------------------------------------------


def _columns_of(dataset: str) -> dict[str, str]:
    spec = BY_NAME[dataset]
    names = [column.name for column in spec.columns] + list(DERIVED_COLUMNS) + list(EXTRA_COLUMNS.get(dataset, ()))
    return {name.lower(): name for name in names}


def _conditions(node: Any, at: Path_) -> Iterator[tuple[dict[str, Any], Path_]]:
    if not isinstance(node, dict):
        return
    if "column" in node:
        yield node, at
    for key in ("all", "any"):
        for index, item in enumerate(node.get(key, [])):
            yield from _conditions(item, (*at, key, index))
    if "not" in node:
        yield from _conditions(node["not"], (*at, "not"))


def _param_refs(node: Any, at: Path_) -> Iterator[tuple[str, Path_]]:
    if isinstance(node, dict):
        if isinstance(node.get("param"), str) and set(node) <= {"param", "eq", "in"}:  # a reference or a gate
            yield node["param"], (*at, "param")
        for key, value in node.items():
            if key != "tests":
                yield from _param_refs(value, (*at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _param_refs(item, (*at, index))


def _check_dataset(located: _Located, name: Any, at: Path_) -> None:
    if name not in BY_NAME:
        close = difflib.get_close_matches(str(name), list(BY_NAME), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known datasets: {', '.join(BY_NAME)}"
        raise located.error(at, f"unknown dataset {name!r}{hint}")


def _check_columns(located: _Located, dataset: str, condition: Any, at: Path_) -> None:
    known = _columns_of(dataset)
    for comparison, where in _conditions(condition, at):
        for key in ("column",):
            name = comparison[key]
            if str(name).lower() not in known:
                close = difflib.get_close_matches(str(name), list(known.values()), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise located.error((*where, key), f"dataset {dataset!r} has no column {name!r}{hint}")
        reference = [value for value in comparison.values() if isinstance(value, dict) and "column" in value]
        for value in reference:
            if str(value["column"]).lower() not in known:
                raise located.error(where, f"dataset {dataset!r} has no column {value['column']!r}")


def _semantics(located: _Located) -> None:
    rule = located.data
    check = rule["check"]
    parts = check.get("all_of")
    for index, part in enumerate(parts or [check]):
        _check_semantics(located, part, ("check", "all_of", index) if parts else ("check",))
    _param_semantics(located, rule)
    for pattern, at in _literal_patterns(check, ("check",)):
        try:
            compile_linear(pattern)
        except PatternError as error:
            raise located.error(at, str(error)) from None


EVERY_ROW = "*"  # a join key: every counterpart row (an organisation-wide setting)


def _check_semantics(located: _Located, check: dict[str, Any], at: Path_) -> None:
    """One check (or one part of an `all_of`): its datasets, columns and join keys exist."""
    scopes = [(key, check[key]) for key in ("each", "count", "for_each") if key in check]
    for key, scope in scopes:
        _check_dataset(located, scope["dataset"], (*at, key, "dataset"))
        _check_columns(located, scope["dataset"], scope.get("where"), (*at, key, "where"))
        if "exclude" in scope:
            other = scope["exclude"]
            _check_dataset(located, other["dataset"], (*at, key, "exclude", "dataset"))
            _check_columns(located, other["dataset"], other["where"], (*at, key, "exclude", "where"))
            link = other.get("key", "identity")
            for dataset in (scope["dataset"], other["dataset"]):
                if link.lower() not in _columns_of(dataset):
                    raise located.error((*at, key, "exclude"), f"dataset {dataset!r} has no column {link!r}")
    if "each" in check and "assert" in check:
        _check_columns(located, check["each"]["dataset"], check["assert"], (*at, "assert"))
    if "count" in check and "matching" in check:
        _check_columns(located, check["count"]["dataset"], check["matching"], (*at, "matching"))
    if "join" in check:
        join = check["join"]
        _check_dataset(located, join["dataset"], (*at, "join", "dataset"))
        for part in ("where", "assert"):
            _check_columns(located, join["dataset"], join.get(part), (*at, "join", part))
        for name in object_refs(join):
            if name.lower() not in _columns_of(check["for_each"]["dataset"]):
                raise located.error(
                    (*at, "join"), f"dataset {check['for_each']['dataset']!r} has no column {name!r} ({{object: }})"
                )
        on = join.get("key", "server_key")
        if isinstance(on, dict):
            keys = [(check["for_each"]["dataset"], on["object"]), (join["dataset"], on["counterpart"])]
        else:  # "*" pairs every object with every counterpart row: nothing to look up
            keys = [] if on == EVERY_ROW else [(check["for_each"]["dataset"], on), (join["dataset"], on)]
        for dataset, name in keys:
            if name.lower() not in _columns_of(dataset):
                raise located.error((*at, "join", "key"), f"dataset {dataset!r} has no column {name!r} to join on")
    outside = {k: v for k, v in check.items() if k != "join"}
    if object_refs(outside):
        raise located.error(at, "{object: ...} reads the checked object's value and only works in a join")


def _param_semantics(located: _Located, rule: dict[str, Any]) -> None:
    for index, item in enumerate(rule.get("requires", [])):
        _check_dataset(located, item["dataset"], ("requires", index, "dataset"))
    declared = rule.get("params", {})
    used = set()
    for name, at in _param_refs({k: v for k, v in rule.items() if k != "params"}, ()):
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
            raise located.error(at, f"unknown parameter {name!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
        used.add(name)
    for name, spec in declared.items():
        if name not in used:
            raise located.error(("params", name), f"parameter {name!r} is declared but never used", key=True)
        if spec.get("site_value"):
            if spec["default"] is not None:
                raise located.error(("params", name, "default"), "a site value has no default: write `default: null`")
            continue
        _check_param_value(located, spec["type"], spec["default"], ("params", name, "default"))


def _literal_patterns(node: Any, at: Path_) -> Iterator[tuple[str, Path_]]:
    """Every `regex:` pattern written in the rule itself (a parameter's is checked with its value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "regex" and isinstance(value, str):
                yield value, (*at, key)
            else:
                yield from _literal_patterns(value, (*at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _literal_patterns(item, (*at, index))


def regex_params(node: Any) -> set[str]:
    """The parameters a rule's check uses as regular expressions (`regex: {param: NAME}`)."""
    return {name for name, at in _param_refs(node, ()) if at[-2:-1] == ("regex",)}


_PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "list": (list,), "date": (str,),
    "dates": (dict,),  # value → "YYYY-MM-DD" or null (no date), e.g. product → end of support
}  # fmt: skip


def fits_type(kind: str, value: Any) -> bool:
    """Whether `value` has the type a parameter of `kind` declares (a YAML `true` is no number)."""
    return isinstance(value, _PARAM_TYPES[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))


def _check_param_value(located: _Located, kind: str, value: Any, at: Path_) -> None:
    if not fits_type(kind, value):
        raise located.error(at, f"expected a {kind}, got {value!r}")
    if kind == "dates":
        for key, date in value.items():
            if date is not None and not _iso_date(date):
                raise located.error((*at, key), f"expected a date as 'YYYY-MM-DD' (quoted) or null, got {date!r}")


def _iso_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


_JAPANESE = "\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef"  # kana, kanji, full-width forms and CJK punctuation
_FOLD_BETWEEN_JAPANESE = re.compile(f"(?<=[{_JAPANESE}])[ \\t\\n]+(?=[{_JAPANESE}])")


def _unfolded(text: str) -> str:
    """Japanese text without the spaces YAML's folding (`>`) puts where a line broke between two Japanese
    characters; Japanese has no spaces there. Spaces beside Latin words (`POP3 と IMAP4`) stay."""
    return _FOLD_BETWEEN_JAPANESE.sub("", text)


# -- Public API ----------------------------------------------------------------------------------------------


def read_validated(path: Path, schema: dict[str, Any], what: str) -> tuple[Any, Callable[[Path_, str], RuleError]]:
    """A YAML file (safe_load) checked against `schema`, with errors that name file:line:column and the key to
    fix; also a function that makes such an error for any place in it, for checks the schema cannot express."""
    import jsonschema

    located = _read(path, what)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(located.data))
    if errors:
        raise _explain(located, errors)
    return located.data, located.error


def _validated(path: Path) -> dict[str, Any]:
    """A rule file's data, checked against the schema and for what the schema cannot express."""
    import jsonschema

    located = _read(path)
    if not isinstance(located.data, dict):
        raise located.error((), "a rule file holds one mapping (id, title, severity, check, …)")
    validator = jsonschema.Draft202012Validator(rule_schema())
    errors = list(validator.iter_errors(located.data))
    if errors:
        raise _explain(located, errors)
    _semantics(located)
    return located.data


def load_rule(path: Path) -> Rule:
    return _rule_from(_validated(path), path)


def _rule_from(data: dict[str, Any], path: Path) -> Rule:
    texts_ja = {
        key: _unfolded(data[f"{key}_ja"])
        for key in ("title", "description", "rationale", "message", "expected")
        if f"{key}_ja" in data
    }
    remediation = data["remediation"]
    if "text_ja" in remediation:
        texts_ja["remediation"] = _unfolded(remediation["text_ja"])
        remediation = {**remediation, "text_ja": texts_ja["remediation"]}
    return Rule(
        id=data["id"],
        title=data["title"],
        severity=data["severity"],
        check=data["check"],
        rationale=data["rationale"],
        remediation=remediation,
        source=str(path),
        tags=tuple(data.get("tags", ())),
        description=data.get("description", ""),
        applies_to=data.get("applies_to", {}),
        requires=tuple(data.get("requires", ())),
        params={
            name: Param(
                name,
                spec["type"],
                spec["default"],
                spec.get("description", ""),
                tuple(spec.get("choices", ())),
                spec.get("minimum"),
                spec.get("maximum"),
                bool(spec.get("site_value", False)),
            )
            for name, spec in data.get("params", {}).items()
        },
        message=data.get("message"),
        references=tuple(data.get("references", ())),
        tests=tuple(data.get("tests", ())),
        verdict=data.get("verdict", {}),
        texts_ja=texts_ja,
        expected=_unfolded(data["expected"]) if "expected" in data else None,
        controls=tuple(data.get("controls", ())),
    )


def _is_rule_file(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and path.name != "pack.yaml" and path.is_file()  # pack.yaml: packs.py


def rule_files(paths: list[Path]) -> list[Path]:
    """Rule files under the given files and folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _is_rule_file(p)))
        elif path.is_file():
            found.append(path)
        else:
            raise RuleError(str(path), 0, 0, "no such rule file or folder")
    return found


# Rules already loaded in this process, by file path and content: parsing and validating a pack costs ~80 ms, and
# a batch (or the test suite) loads the same pack for every bundle. Keyed by the bytes, so an edited file is read
# again; a Rule is frozen and no caller changes the plain data it holds.
_LOADED: dict[tuple[str, bytes], Rule] = {}


def _load_cached(path: Path) -> Rule:
    """From this process's rules, else from the rule cache of earlier runs (rule_cache), else read and validated."""
    try:
        content = path.read_bytes()
    except OSError:
        return load_rule(path)  # load_rule says what is wrong with it
    key = (str(path), hashlib.sha256(content).digest())
    rule = _LOADED.get(key)
    if rule is None:
        data = rule_cache.fetch(content)
        if data is None:
            data = _validated(path)
            rule_cache.store(content, data)
        rule = _LOADED[key] = _rule_from(data, path)
    return rule


def load_rules(paths: list[Path]) -> list[Rule]:
    """Every rule under `paths`; ids must be unique across them."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in rule_files(paths):
        rule = _load_cached(path)
        if rule.id in seen:
            raise RuleError(str(path), 1, 1, f"duplicate rule id {rule.id!r}, also in {seen[rule.id]}", "$.id")
        seen[rule.id] = str(path)
        rules.append(rule)
    return sorted(rules, key=lambda r: r.id)
