"""Structured conditions → pandas masks over a whole table, with three-valued logic.

A comparison on a missing value is *unknown* (pd.NA), not false: `all`/`any`/`not` follow Kleene logic
(pandas' nullable boolean), so a rule can tell "fails" from "could not be judged". Strings compare
case-insensitively unless `case_sensitive: true`, as PowerShell's `-eq` does. Nothing here evaluates code: an
operator is a name looked up in `OPERATORS`.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyzer.baselines.builds import Catalogue, Version, exposed, parse_build
from analyzer.baselines.builds import packaged as packaged_builds
from analyzer.engine.linear_regex import compile_linear
from analyzer.exchange.certificates import covers
from analyzer.exchange.values import ServerVersion, parse_server_version

Mask = pd.Series  # of dtype "boolean": True, False or <NA>


@dataclass(frozen=True)
class Context:
    """What conditions may refer to besides the table: resolved parameters and the evaluation date.

    `masks` is shared by every rule of one scan: rules often repeat a comparison over the same large table (the
    same scope, the same test), and a million-row string comparison is worth doing once. It refers to its
    frames weakly: a frame a rule derived (a scope, a join) goes when the rule is done, and its masks with it.
    """

    params: dict[str, Any] = field(default_factory=dict)
    as_of: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    masks: dict[tuple[int, str], tuple[weakref.ref[pd.DataFrame], Mask]] = field(default_factory=dict, compare=False)
    # Date columns in the exporting machine's local time, zone unknown: compared by calendar day, not by hour.
    by_day: set[str] = field(default_factory=set, compare=False)
    builds: Catalogue | None = None  # the Exchange build catalogue (--builds); None: the one shipped


def _forget(masks: dict[tuple[int, str], Any], frame_id: int) -> None:
    for key in [key for key in masks if key[0] == frame_id]:
        del masks[key]


def resolve(value: Any, frame: pd.DataFrame, context: Context) -> Any:
    """A literal, `{param: name}` or `{column: name}` (a whole column)."""
    if isinstance(value, dict) and "param" in value:
        return context.params[value["param"]]
    if isinstance(value, dict) and "column" in value:
        return frame[column_name(frame, value["column"])]
    return value


def column_name(frame: pd.DataFrame, name: str) -> str:
    lowered = {str(column).lower(): str(column) for column in frame.columns}
    return lowered[name.lower()]


def _boolean(values: Any, unknown: pd.Series) -> Mask:
    known = pd.Series(values, index=unknown.index).to_numpy(dtype=bool, na_value=False)
    return pd.Series(pd.arrays.BooleanArray(known, unknown.to_numpy(dtype=bool)), index=unknown.index)


def _fold(value: Any, case_sensitive: bool) -> Any:
    # lower(), not casefold(): pyarrow has a native lower-case kernel, and PowerShell's own case-insensitive
    # comparison is invariant-culture, not full Unicode case folding.
    return value if case_sensitive or not isinstance(value, str) else value.lower()


def _folded(series: pd.Series, case_sensitive: bool) -> pd.Series:
    if case_sensitive:
        return series
    if isinstance(series.dtype, pd.StringDtype):
        return series.str.lower()  # vectorised for pyarrow-backed strings
    if series.dtype == object:
        return series.map(lambda v: v.lower() if isinstance(v, str) else v, na_action="ignore")
    return series


def _is_missing(series: pd.Series) -> pd.Series:
    return pd.Series(series.isna().to_numpy(dtype=bool), index=series.index)


def _coerce(series: pd.Series, value: Any) -> Any:
    """Bring a literal to the column's kind: 'true' for booleans, dates for datetimes, versions for versions."""
    if isinstance(series.dtype, pd.BooleanDtype) and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "$true")
    if isinstance(series.dtype, pd.DatetimeTZDtype) and isinstance(value, (str, dt.date)):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return value


_NULLABLE = (pd.BooleanDtype, pd.StringDtype, pd.Int64Dtype, pd.Float64Dtype)


def _compare(series: pd.Series, value: Any, op: Callable[[Any, Any], Any], case_sensitive: bool) -> Mask:
    if isinstance(series.dtype, _NULLABLE) and not isinstance(value, (pd.Series, list, dict)) and value is not None:
        # pandas' nullable types compare with a scalar into a boolean mask that is already <NA> where the
        # value is missing: exactly the three-valued result wanted, without a round trip through numpy.
        try:
            result = op(_folded(series, case_sensitive), _fold(_coerce(series, value), case_sensitive))
            return pd.Series(result, index=series.index, dtype="boolean")
        except (TypeError, ValueError):
            pass  # e.g. a string column compared with a number: element by element below
    unknown = _is_missing(series)
    other = value
    if isinstance(value, pd.Series):
        unknown = unknown | _is_missing(value)
        other = _folded(value, case_sensitive)
    else:
        other = _fold(_coerce(series, value), case_sensitive)
    left = _folded(series, case_sensitive)
    try:
        result = op(left, other)
    except TypeError:  # e.g. a number compared with text: element by element, unknown where incomparable
        result = pd.Series([_safe(op, a, other) for a in left], index=series.index)
        unknown = unknown | result.isna()
    return _boolean(pd.Series(result, index=series.index).fillna(False).astype(bool), unknown)


def _safe(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    try:
        return bool(op(left, right))
    except TypeError:
        return None


def _elementwise(series: pd.Series, test: Callable[[Any], bool | None]) -> Mask:
    """A per-value test for values pandas cannot vectorise (lists, versions); None means unknown."""
    results = [None if _missing_value(v) else test(v) for v in series]
    return pd.Series(results, index=series.index, dtype="boolean")


def _missing_value(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)  # noqa: PLR0124


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _contains(series: pd.Series, wanted: Any, case_sensitive: bool, mode: str) -> Mask:
    needles = {_fold(str(item), case_sensitive) for item in _as_list(wanted)}

    def test(value: Any) -> bool:
        items = {_fold(str(item), case_sensitive) for item in (value if isinstance(value, list) else [value])}
        if mode == "all":
            return needles <= items
        return bool(needles & items)

    return _elementwise(series, test)


def _version(value: Any) -> ServerVersion | None:
    if isinstance(value, ServerVersion):
        return value
    parts = [int(p) for p in str(value).split(".")]
    return parse_server_version(".".join(map(str, [*parts, 0, 0, 0, 0][:4])))


def _days(value: Any) -> dt.timedelta:
    return dt.timedelta(days=float(value))


def comparison(condition: dict[str, Any], frame: pd.DataFrame, context: Context) -> Mask:
    series = frame[column_name(frame, condition["column"])]
    case_sensitive = bool(condition.get("case_sensitive", False))
    (op_name, raw), *_ = [(k, v) for k, v in condition.items() if k not in ("column", "case_sensitive")]
    value = resolve(raw, frame, context)
    if isinstance(value, pd.Series):  # a column-to-column comparison: not worth a cache key
        return OPERATORS[op_name](series, value, case_sensitive, context)
    # Entries of a frame are dropped when it dies, before its id can be reused by another table.
    key = (id(frame), json.dumps([condition, value, context.as_of.isoformat()], sort_keys=True, default=str))
    cached = context.masks.get(key)
    if cached is not None and cached[0]() is frame:
        return cached[1]
    mask = OPERATORS[op_name](series, value, case_sensitive, context)
    if not any(k[0] == key[0] for k in context.masks):
        weakref.finalize(frame, _forget, context.masks, key[0])
    context.masks[key] = (weakref.ref(frame), mask)
    return mask


def evaluate(condition: dict[str, Any] | None, frame: pd.DataFrame, context: Context) -> Mask:
    """The mask of a condition over `frame`; no condition is true everywhere."""
    if condition is None:
        return pd.Series(True, index=frame.index, dtype="boolean")
    if "all" in condition:
        mask = pd.Series(True, index=frame.index, dtype="boolean")
        for part in condition["all"]:
            mask = mask & evaluate(part, frame, context)
        return mask
    if "any" in condition:
        mask = pd.Series(False, index=frame.index, dtype="boolean")
        for part in condition["any"]:
            mask = mask | evaluate(part, frame, context)
        return mask
    if "not" in condition:
        return ~evaluate(condition["not"], frame, context)
    return comparison(condition, frame, context)


def columns_of(condition: dict[str, Any] | None) -> list[str]:
    """The columns a condition reads, in order: what a finding reports as observed."""
    if condition is None:
        return []
    if "column" in condition:
        return [condition["column"]]
    parts = condition.get("all") or condition.get("any") or [condition.get("not")]
    return list(dict.fromkeys(name for part in parts for name in columns_of(part)))


OBJECT_PREFIX = "object:"  # the checked object's columns in a join's pair frame


def object_refs(node: Any) -> list[str]:
    """The checked object's columns a join condition reads through `{object: Column}`."""
    if isinstance(node, dict):
        if set(node) == {"object"}:
            return [str(node["object"])]
        return [ref for value in node.values() for ref in object_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in object_refs(item)]
    return []


def with_object_columns(node: Any) -> Any:
    """The condition with `{object: X}` turned into a reference to the pair frame's `object:X` column."""
    if isinstance(node, dict):
        if set(node) == {"object"}:
            return {"column": OBJECT_PREFIX + str(node["object"])}
        return {key: with_object_columns(value) for key, value in node.items()}
    if isinstance(node, list):
        return [with_object_columns(item) for item in node]
    return node


def describe(condition: dict[str, Any] | None, params: dict[str, Any]) -> str:
    """The condition in words, for a finding's `expected`."""
    if condition is None:
        return "any"
    if "all" in condition:
        return " and ".join(describe(part, params) for part in condition["all"])
    if "any" in condition:
        return "(" + " or ".join(describe(part, params) for part in condition["any"]) + ")"
    if "not" in condition:
        return f"not ({describe(condition['not'], params)})"
    (op_name, raw), *_ = [(k, v) for k, v in condition.items() if k not in ("column", "case_sensitive")]
    if op_name == "as_of_before":
        return f"the evaluation date before the {raw['param']} date of {condition['column']}"
    value = params.get(raw["param"]) if isinstance(raw, dict) and "param" in raw else raw
    shown = value["column"] if isinstance(value, dict) and "column" in value else value
    if isinstance(value, dict) and "object" in value:
        shown = f"its {value['object']}"
    if op_name == "items_at_least":
        return f"{condition['column']} has at least {shown} items"
    if op_name in _STATES and isinstance(value, bool):  # `empty: false` reads "X is set", not "X empty False"
        return f"{condition['column']} {_STATES[op_name][value]}"
    return f"{condition['column']} {_WORDS.get(op_name, op_name)} {shown}"


_STATES = {
    "empty": ("is set", "is empty"),
    "exists": ("is absent", "is present"),
    "unlimited": ("is not Unlimited", "is Unlimited"),
    "newest_update": (
        "is not the newest update of its cumulative update",
        "is the newest update of its cumulative update in the build catalogue",
    ),
    "cu_serviced": (
        "is a cumulative update that no longer gets security updates",
        "is a cumulative update that got its product's latest security update in the build catalogue",
    ),
}  # by the expected value: False, True
_WORDS = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "in", "not_in": "not in",
          "fixed_by": "carries the fix of"}  # fmt: skip


def _regex(series: pd.Series, pattern: Any, case_sensitive: bool, _c: Context) -> Mask:
    compiled = compile_linear(str(pattern), case_sensitive)  # RE2 only: an unsupported pattern fails here
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        try:  # vectorised: pyarrow's own matcher is RE2 too
            with warnings.catch_warnings():  # pandas warns about capture groups it has no use for here
                warnings.simplefilter("ignore", UserWarning)
                found = series.str.contains(str(pattern), case=case_sensitive, regex=True)
            return pd.Series(found, index=series.index, dtype="boolean")
        except (ValueError, NotImplementedError, TypeError):
            pass
    return _elementwise(series, lambda v: compiled.search(_joined(v)) is not None)


def _joined(value: Any) -> str:
    """A value as an admin reads it: list items joined with ', ' (bindings as `0.0.0.0:995`), others as text."""
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)


def _covers(series: pd.Series, hosts: Any, _cs: bool, _c: Context) -> Mask:
    """Certificate names (subject and SANs, wildcards one label deep) that cover a host name, per row."""
    wanted = hosts if isinstance(hosts, pd.Series) else pd.Series([hosts] * len(series), index=series.index)
    results = [
        None if _missing_value(names) or _missing_value(host) else covers(str(host), [str(n) for n in _as_list(names)])
        for names, host in zip(series, wanted, strict=True)
    ]
    return pd.Series(results, index=series.index, dtype="boolean")


def lookup_date(table: Any, value: Any) -> dt.date | bool | None:
    """The date a `dates` parameter lists for `value` (any case): a date, None for "no end date", or False when
    the value is not listed."""
    for key, listed in dict(table).items():
        if str(key).lower() == str(value).lower():
            return None if listed is None else dt.date.fromisoformat(str(listed))
    return False


def _as_of_before(series: pd.Series, ends: Any, _cs: bool, context: Context) -> Mask:
    """The evaluation date is before the end date listed for the row's value; unlisted values are unknown."""
    as_of = context.as_of.date()

    def test(value: Any) -> bool | None:
        end = lookup_date(ends, value)
        if isinstance(end, bool):  # not listed
            return None
        return end is None or as_of < end

    return _elementwise(series, test)


def _in(series: pd.Series, values: Any, case_sensitive: bool, _c: Context) -> Mask:
    folded = [_fold(_coerce(series, v), case_sensitive) for v in _as_list(values)]
    unknown = _is_missing(series)
    return _boolean(_folded(series, case_sensitive).isin(folded).fillna(False).astype(bool), unknown)


def _empty(series: pd.Series, expected: Any, _cs: bool, _c: Context) -> Mask:
    empty = series.map(lambda v: _missing_value(v) or v == "" or (isinstance(v, list) and not v), na_action=None)
    return pd.Series(empty.astype(bool) == bool(expected), index=series.index, dtype="boolean")


def _unlimited(series: pd.Series, expected: Any, _cs: bool, _c: Context) -> Mask:
    """A size, limit or duration column (Float64) holds Unlimited as infinity; unknown stays unknown."""
    numbers = pd.to_numeric(series, errors="coerce").astype("Float64")
    return pd.Series((numbers == float("inf")) == bool(expected), index=series.index, dtype="boolean")


def _items_at_least(series: pd.Series, least: Any, _cs: bool, _c: Context) -> Mask:
    """A multi-valued column holds at least `least` items (a DAG's members, a database's copies)."""
    return _elementwise(series, lambda value: len(value if isinstance(value, list) else [value]) >= int(least))


def _exists(series: pd.Series, expected: Any, _cs: bool, _c: Context) -> Mask:
    return pd.Series((~_is_missing(series)) == bool(expected), index=series.index, dtype="boolean")


def _before(series: pd.Series, limit: pd.Timestamp, context: Context) -> Mask:
    if series.name in context.by_day and pd.api.types.is_datetime64_any_dtype(series):
        return _compare(series.dt.floor("D"), limit.floor("D"), lambda a, b: a < b, True)
    return _compare(series, limit, lambda a, b: a < b, True)


def _within_days(series: pd.Series, days: Any, _cs: bool, context: Context) -> Mask:
    return _before(series, pd.Timestamp(context.as_of) + _days(days), context)


def _older_than_days(series: pd.Series, days: Any, _cs: bool, context: Context) -> Mask:
    return _before(series, pd.Timestamp(context.as_of) - _days(days), context)


def _catalogue(context: Context) -> Catalogue:
    return context.builds if context.builds is not None else packaged_builds()


def _by_build(series: pd.Series, answer: Callable[[Version], bool | None], expected: bool = True) -> Mask:
    """Per value, the catalogue's `answer` for the build it names, compared with `expected`; unknown where the value
    names no build or the catalogue cannot tell (a later update, an Extended Security Update build, a product or CU
    it does not know) — never a pass or a fail."""

    def one(value: Any) -> bool | None:
        build = parse_build(value)
        found = answer(build) if build is not None else None
        return None if found is None else found == expected

    return _elementwise(series, one)


def _newest_update(series: pd.Series, expected: Any, _cs: bool, context: Context) -> Mask:
    """The build is its cumulative update's newest release by the evaluation date."""
    catalogue, as_of = _catalogue(context), context.as_of.date()
    return _by_build(series, lambda build: catalogue.is_newest(build, as_of), bool(expected))


def _cu_serviced(series: pd.Series, expected: Any, _cs: bool, context: Context) -> Mask:
    """The build's cumulative update got its product's latest security update released by the evaluation date."""
    catalogue, as_of = _catalogue(context), context.as_of.date()
    return _by_build(series, lambda build: catalogue.serviced(build, as_of), bool(expected))


def _fixed_by(series: pd.Series, update: Any, _cs: bool, context: Context) -> Mask:
    """The build carries the fix the named security update (`Mar21SU`) brought."""
    catalogue = _catalogue(context)
    return _by_build(series, lambda build: exposed(catalogue, build, str(update)), expected=False)


OPERATORS: dict[str, Callable[[pd.Series, Any, bool, Context], Mask]] = {
    "eq": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a == b, cs),
    "ne": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a != b, cs),
    "lt": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a < b, True),
    "le": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a <= b, True),
    "gt": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a > b, True),
    "ge": lambda s, v, cs, _c: _compare(s, v, lambda a, b: a >= b, True),
    "in": _in,
    "not_in": lambda s, v, cs, c: ~_in(s, v, cs, c),
    "regex": _regex,
    "contains": lambda s, v, cs, _c: _contains(s, v, cs, "any"),
    "contains_any": lambda s, v, cs, _c: _contains(s, v, cs, "any"),
    "contains_all": lambda s, v, cs, _c: _contains(s, v, cs, "all"),
    "empty": _empty,
    "exists": _exists,
    "items_at_least": _items_at_least,
    "unlimited": _unlimited,
    "version_lt": lambda s, v, _cs, _c: _elementwise(s, lambda x: _version(x) < _version(v)),  # type: ignore[operator]
    "version_ge": lambda s, v, _cs, _c: _elementwise(s, lambda x: _version(x) >= _version(v)),  # type: ignore[operator]
    "newest_update": _newest_update,
    "cu_serviced": _cu_serviced,
    "fixed_by": _fixed_by,
    "within_days": _within_days,
    "older_than_days": _older_than_days,
    "covers": _covers,
    "as_of_before": _as_of_before,
    "before": lambda s, v, _cs, _c: _compare(s, v, lambda a, b: a < b, True),
    "after": lambda s, v, _cs, _c: _compare(s, v, lambda a, b: a > b, True),
}
