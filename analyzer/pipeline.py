"""`scan`: read → datasets → rules → report. The one module that wires every stage."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer import __version__
from analyzer.baselines.builds import Catalogue
from analyzer.baselines.builds import packaged as packaged_builds
from analyzer.engine.evaluate import Evidence, evaluate_rules, has_role, resolve_params
from analyzer.engine.loader import Rule, load_rules, rule_files
from analyzer.engine.packs import PACK_FILE, Pack, narrowed, packaged_packs, read_pack, selected, shared_rules
from analyzer.engine.verdicts import PROTOCOLS, DatasetHealth, compute_verdicts
from analyzer.engine.waivers import apply_waivers, load_waivers
from analyzer.errors import ExauditError
from analyzer.exchange.bundle import Bundle, FileProgress, load_bundle
from analyzer.exchange.dates import DateSettings
from analyzer.exchange.manifest import MANIFEST
from analyzer.memory import release_after
from analyzer.model import InputProblem, RuleResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class ScanOptions:
    paths: Sequence[Path]
    rule_paths: Sequence[Path] = ()
    tags: Sequence[str] = ()
    params: dict[str, Any] = field(default_factory=dict)
    as_of: dt.datetime | None = None
    encoding: str | None = None
    waivers: Path | None = None
    split_large: bool = True  # read a large CLIXML file in two processes (off when processes are busy already)
    dates: DateSettings | None = None  # --culture / --date-format: the exporting machine's date layout
    packs: Sequence[str] = ()  # shipped packs to run beside the default ones (`--pack`, a policy's `packs:`)
    site_plan: dict[str, str] | None = None  # the plan a policy file's values come from (name, version, approver)
    param_sources: dict[str, str] = field(default_factory=dict)  # per parameter: "policy" or "command line"
    builds: Catalogue | None = None  # the Exchange build catalogue (--builds); None: the one shipped


@dataclass
class Scan:
    bundle: Bundle
    rules: list[Rule]
    results: list[RuleResult]
    as_of: dt.datetime
    generated_at: dt.datetime
    rulesets: list[dict[str, str]]
    params: dict[str, Any]
    verdicts: dict[str, dict[str, Any]]
    waivers: list[dict[str, Any]] = field(default_factory=list)  # each waiver with its status and matches
    site_plan: dict[str, str] | None = None
    param_sources: dict[str, str] = field(default_factory=dict)
    build_catalogue: dict[str, Any] | None = None  # the build catalogue the rules used: source, month, staleness


def _client_access_servers(servers: pd.DataFrame) -> list[str]:
    """The servers a POP3/IMAP4 verdict speaks of: every server but Edge servers, where neither protocol runs."""
    if not len(servers):
        return []
    edge = servers.apply(lambda row: has_role(row, "Edge"), axis=1).astype(bool)
    return sorted(str(key) for key in servers.loc[~edge, "server_key"].dropna())


def packaged_rules() -> Path:
    """The rule packs shipped with exaudit (package data, so they work after a normal pip install)."""
    return Path(str(resources.files("analyzer.rules")))


def packaged_demo() -> Path:
    return Path(str(resources.files("analyzer.samples") / "mistakes-2016"))


def generated_at_text() -> str:
    return generated_at().strftime("%Y-%m-%dT%H:%M:%SZ")


def generated_at() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible reports), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# Dates are compared with pandas timestamps, which hold the years 1677–2262: an evaluation date outside the range
# below (given with --as-of or found in a manifest) is a typo — 0999 for 1999 — never an audit date.
EARLIEST_AS_OF, LATEST_AS_OF = dt.date(1900, 1, 1), dt.date(2200, 12, 31)


@dataclass(frozen=True)
class Policy:
    """A policy file, read once: `params:` (name: value, RULE-ID.name: value), `packs:` to run beside the default
    ones, and `plan:` — the site's plan its values come from (a STIG's Email Domain Security Plan)."""

    params: dict[str, Any]
    packs: list[str]
    plan: dict[str, str] | None


_PLAN_FIELDS = ("name", "version", "approver", "date")


def read_policy(path: Path) -> Policy:
    data = _policy_document(path)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ExauditError(f"{path}:1: a policy file holds `params:` with name: value pairs")
    packs = data.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(name, str) for name in packs):
        raise ExauditError(f"{path}:1: a policy file's `packs:` is a list of pack names")
    plan = data.get("plan")
    if plan is not None and (
        not isinstance(plan, dict) or not {"name", "version"} <= set(plan) or set(plan) - set(_PLAN_FIELDS)
    ):
        raise ExauditError(f"{path}:1: a policy file's `plan:` holds name and version (and approver, date)")
    shown_plan = None if plan is None else {key: str(plan[key]) for key in _PLAN_FIELDS if plan.get(key) is not None}
    return Policy({str(k): v for k, v in params.items()}, packs, shown_plan)


def load_policy(path: Path) -> dict[str, Any]:
    """A policy file's parameters."""
    return read_policy(path).params


def _policy_document(path: Path) -> dict[str, Any]:
    import yaml

    from analyzer import safe_yaml

    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError) as error:
        raise ExauditError(f"{path}: policy file not readable: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ExauditError(f"{where}: policy file is not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ExauditError(f"{path}:1: a policy file holds `params:` with name: value pairs (and `packs:`)")
    return data


def _as_of(bundle: Bundle, given: dt.datetime | None) -> dt.datetime:
    if given is not None:
        return given
    exported = (bundle.manifest or {}).get("exported_at")
    if isinstance(exported, str):
        try:
            when = dt.datetime.fromisoformat(exported.replace("Z", "+00:00")).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            bundle.problems.append(InputProblem(MANIFEST, 0, f"exported_at is not a date: {exported!r}; using now"))
        else:
            if EARLIEST_AS_OF <= when.date() <= LATEST_AS_OF:
                return when
            bundle.problems.append(InputProblem(MANIFEST, 0, f"exported_at {exported!r} is out of range; using now"))
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _rulesets(paths: Sequence[Path], packs: Sequence[Pack]) -> list[dict[str, str]]:
    by_folder = {pack.folder: pack for pack in packs}
    sets = []
    for path in paths:
        digest = hashlib.sha256()
        files = rule_files([path])
        if path in by_folder and by_folder[path].shares:  # the rules it takes from the packs it shares
            files += sorted(Path(rule.source) for rule in shared_rules([by_folder[path]], packaged_packs(path.parent)))
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        shipped = path.parent == packaged_rules()
        label = f"exaudit:{path.name}" if shipped else str(path)  # the same on every machine
        entry = {"path": label, "version": __version__, "sha256": digest.hexdigest()}
        # A pack (chosen from the shipped ones, or a folder of the user's with its pack.yaml): what it judges
        # against, and how much of it.
        pack = by_folder.get(path) or (read_pack(path) if (path / PACK_FILE).is_file() else None)
        if pack is not None:
            found = {"framework": pack.framework, "framework_version": pack.version, "coverage": pack.coverage,
                     "coverage_ja": pack.coverage_ja}  # fmt: skip
            entry.update({key: value for key, value in found.items() if value})
        sets.append(entry)
    return sets


def _check_params(rules: list[Rule], params: Mapping[str, Any]) -> None:
    """A parameter no rule declares, or a value that does not fit its rule, stops the scan before it starts,
    naming both (and the nearest known name: `--param expiry_days=7` is a typo, not a setting)."""
    known = {name for rule in rules for name in rule.params} | {f"{r.id}.{n}" for r in rules for n in r.params}
    for name in params:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known)) or 'none'}"
            raise ExauditError(f"--param {name}: no rule has this parameter{hint}")
    for rule in rules:
        try:
            resolve_params(rule, params)
        except (ValueError, OverflowError) as error:
            raise ExauditError(f"--param for {rule.id} ({rule.source}): {error}") from None


def _check_tags(rules: list[Rule], tags: Sequence[str]) -> None:
    known = {tag for rule in rules for tag in rule.tags}
    for tag in tags:
        if tag not in known:
            close = difflib.get_close_matches(tag, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
            raise ExauditError(f"--tag {tag}: no rule has this tag{hint}")


def prepare_rules(options: ScanOptions) -> tuple[list[Path], list[Rule], list[Pack]]:
    """The rule paths, the rules a scan with these options evaluates and the shipped packs chosen; a broken rule
    file, an unknown tag or parameter, or a parameter value that does not fit its rule raises here, before any input
    is read."""
    shipped = packaged_packs(packaged_rules())
    chosen = selected(shipped, list(options.packs))  # an unknown name stops the scan
    if options.rule_paths:  # the user's rules instead of the defaults, and any shipped pack named beside them
        rule_paths = [*options.rule_paths, *(pack.folder for pack in chosen if pack.name in options.packs)]
    else:
        rule_paths = [pack.folder for pack in chosen]
    loaded = load_rules(rule_paths)
    ids = {rule.id for rule in loaded}
    shared = [rule for rule in shared_rules(chosen, shipped) if rule.id not in ids]
    every = narrowed(sorted(loaded + shared, key=lambda rule: rule.id), chosen)
    _check_tags(every, options.tags)
    _check_params(every, options.params)
    rules = [rule for rule in every if set(options.tags) & set(rule.tags)] if options.tags else every
    return rule_paths, rules, chosen


def scan(
    options: ScanOptions, progress: Callable[[str], None] | None = None, files: FileProgress | None = None
) -> Scan:
    rule_paths, rules, packs = prepare_rules(options)
    if progress:
        progress("reading the bundle")
    bundle = load_bundle(
        list(options.paths),
        encoding=options.encoding,
        progress=files,
        split_large=options.split_large,
        dates=options.dates,
    )
    input_bytes = sum(entry.size for entry in bundle.inputs)
    release_after(input_bytes)
    as_of = _as_of(bundle, options.as_of)
    evidence = Evidence(
        bundle.datasets, bundle.servers, as_of, dict(options.params), absent=bundle.absent,
        failed_for=bundle.failed_for, builds=options.builds,
    )  # fmt: skip
    if progress:
        progress(f"evaluating {len(rules)} rules")
    results = evaluate_rules(rules, evidence)
    release_after(input_bytes)
    intents = {p: str(options.params.get(f"{p}_intended", "enabled")) for p in PROTOCOLS}
    server_keys = _client_access_servers(bundle.servers)
    health = dataset_health(bundle)
    verdicts = compute_verdicts(rules, results, server_keys, intents, health)  # from the results before waivers
    waivers: list[dict[str, Any]] = []
    if options.waivers is not None:
        results, waivers = apply_waivers(results, load_waivers(options.waivers), as_of)
        _note_waived_checks(verdicts, results)
    rulesets = _rulesets(rule_paths, packs)
    return Scan(bundle, rules, results, as_of, generated_at(), rulesets, dict(options.params), verdicts,
                waivers, options.site_plan, dict(options.param_sources),
                _catalogue_used(rules, options.builds, as_of))  # fmt: skip


_BUILD_OPERATORS = frozenset({"newest_update", "cu_serviced", "fixed_by"})


def _catalogue_used(rules: list[Rule], builds: Catalogue | None, as_of: dt.datetime) -> dict[str, Any] | None:
    """Which build catalogue the rules judged builds against, of which month, and how far it lags the evaluation
    date (a catalogue 90 days older than the evaluation date may miss a security update: the report says so)."""
    if not any(_uses(rule.check, _BUILD_OPERATORS) for rule in rules):
        return None
    catalogue = builds if builds is not None else packaged_builds()
    return {"source": catalogue.source, "month": catalogue.date.strftime("%Y-%m"),
            "stale_days": catalogue.stale_at(as_of.date())}  # fmt: skip


def _uses(node: Any, operators: frozenset[str]) -> bool:
    if isinstance(node, dict):
        return bool(operators & set(node)) or any(_uses(value, operators) for value in node.values())
    if isinstance(node, list):
        return any(_uses(item, operators) for item in node)
    return False


def dataset_health(bundle: Bundle) -> dict[str, DatasetHealth]:
    """Per dataset, what the verdicts that read it must be told: damaged, lossy and unread inputs."""
    unread: dict[str, list[str]] = {}
    for item in bundle.unread:
        for name in item.datasets:
            unread.setdefault(name, []).append(f"{item.path}: not read ({item.reason}); it would supply {name}")
    health: dict[str, DatasetHealth] = {}
    for name in sorted(set(bundle.datasets) | set(unread)):
        dataset = bundle.datasets.get(name)
        damaged = tuple(dataset.incomplete_sources) if dataset else ()
        health[name] = DatasetHealth(damaged, dict(dataset.lossy) if dataset else {}, tuple(unread.get(name, ())))
    return health


def _note_waived_checks(verdicts: dict[str, dict[str, Any]], results: list[RuleResult]) -> None:
    """Waivers never change a verdict; each check behind it says how many of its failures are waived."""
    waived = {r.rule_id: sum(f.outcome == "waived" for f in r.findings) for r in results}
    for verdict in verdicts.values():
        for check in [*verdict["checks"], *verdict["safety"]["checks"]]:
            check["waived"] = waived.get(check["rule_id"], 0)
