"""The `exaudit` command: options in, pipeline call, exit code out. Errors of the project's own type are
printed once as `file:line: message` and end the command with exit code 2."""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import gc
import io
import json
import os
import re
import sys
import tempfile
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, ParamSpec

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from analyzer import __version__
from analyzer.errors import ExauditError, InputError
from analyzer.report.labels import LANGUAGES, labels
from analyzer.report.visible import visible

# Start-up: `exaudit --version` and `--help` import none of pandas, pyarrow, lxml, jsonschema or Jinja2. Each command
# imports what it uses when it runs (the names below are for type checking only).
if TYPE_CHECKING:
    from analyzer.batch import BundleOutcome
    from analyzer.engine.loader import Rule
    from analyzer.exchange.dates import DateSettings
    from analyzer.model import Record
    from analyzer.readers.dispatch import ExportReader

P = ParamSpec("P")
app = typer.Typer(
    name="exaudit",
    help="Offline analyzer for Microsoft Exchange configuration exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

SHOWN_RECORDS = 3
SHOWN_VALUE_CHARS = 70
SHOWN_PROPERTIES = 200


def reports_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Print the project's own errors as `file:line: message` and exit 2, however the command is invoked; any
    other exception is a bug: one line on stderr, the traceback in a file, exit 3 (never 1, which CI reads as
    "--fail-on reached")."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except ExauditError as error:
            err.print(visible(error), markup=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # exits and usage errors: typer's own
            raise
        except BrokenPipeError:  # `exaudit inspect … | head`: the reader has what it wanted
            raise typer.Exit(0) from None
        except OSError as error:  # writing where the user pointed (a folder given as a file, a full disk)
            where = f"{error.filename}: " if error.filename else ""
            err.print(visible(f"{where}{error.strerror or error}"), markup=False)
            raise typer.Exit(2) from None
        except Exception as error:  # the one place every unexpected exception ends
            _internal_error(error)
            raise typer.Exit(3) from None

    return run


def _internal_error(error: BaseException) -> None:
    """Say in one line that exaudit failed, and where the traceback went."""
    details = Path(tempfile.gettempdir()) / f"exaudit-internal-error-{os.getpid()}.txt"
    try:
        details.write_text(
            f"exaudit {__version__}\n{''.join(traceback.format_exception(error))}", encoding="utf-8", newline="\n"
        )
        where = str(details)
    except OSError:
        where = "(the traceback could not be written)"
    err.print(visible(f"internal error: {type(error).__name__}: {error}; details in {where}"), markup=False)


def _version(value: bool) -> None:
    if value:
        print(f"exaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Offline analyzer for Microsoft Exchange configuration exports."""


@dataclass
class _FileRead:
    """What `inspect` shows of one file, gathered while streaming it: never every record at once (a file of a
    million records is counted, not held)."""

    reader: ExportReader
    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    first: list[Record] = field(default_factory=list)
    error: InputError | None = None


def _read_file(reader: ExportReader, each: Callable[[Record], None] | None = None) -> _FileRead:
    """Stream the file; `each` sees every record (for --json), the summary keeps counts and the first few."""
    read = _FileRead(reader)
    try:
        for record in read.reader:
            read.count += 1
            read.types[record.type_name or "(not stated in the file)"] += 1
            if len(read.first) < SHOWN_RECORDS:
                read.first.append(record)
            if each is not None:
                each(record)
    except InputError as error:
        read.error = error
    return read


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(data: Any) -> str:
    """JSON for standard output. A value may hold a lone UTF-16 surrogate (CLIXML's `_xD800_`), which no UTF-8
    output can carry: it is written as the JSON escape `\\ud800`, which means the same code unit. Where standard
    output is not UTF-8 (a pipe under cp932 or cp1252), every non-ASCII character is escaped: the same JSON, and
    nothing lost to the code page."""
    utf8 = codecs.lookup(getattr(sys.stdout, "encoding", None) or "ascii").name == "utf-8"
    text = json.dumps(data, ensure_ascii=not utf8, indent=2)
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _record_json(record: Record) -> dict[str, Any]:
    from analyzer.readers.psvalues import to_plain

    plain: dict[str, Any] = {
        "source": {"file": record.source.path, "line": record.source.line, "index": record.source.index},
        "type_names": list(record.type_names),
        "deserialized": record.deserialized,
        "to_string": record.to_string,
        "properties": {name: to_plain(value) for name, value in record.properties.items()},
    }
    if record.value is not None:
        plain["value"] = to_plain(record.value)
    if record.stream is not None:
        plain["stream"] = record.stream
    if record.lossy:
        plain["lossy"] = dict(record.lossy)
    return plain


def _print_summary(path: Path, read: _FileRead) -> None:
    from analyzer.readers.psvalues import display

    reader = read.reader
    state = "[bold red]INCOMPLETE[/] (read up to the damage)" if read.error else "complete"
    out.print(f"[bold]{_quoted(path)}[/]")
    out.print(f"  format:   {reader.format}    encoding: {reader.encoding}    records: {read.count}    {state}")
    for type_name, count in read.types.most_common():
        out.print(f"  type:     {_quoted(type_name)} × {count}")
    for column, reason in reader.lossy_columns.items():
        out.print(f"  [yellow]lossy:[/]    {_quoted(column)}: {_quoted(reason)}", highlight=False)
    for problem in reader.problems:
        out.print(f"  [yellow]problem:[/]  {_quoted(problem)}", highlight=False)
    shown = read.first
    if not shown:
        return
    table = Table(title=f"first {len(shown)} of {read.count} records", title_justify="left")
    table.add_column("property", style="cyan", no_wrap=True)
    for record in shown:
        table.add_column(f"#{record.source.index} (line {record.source.line})", overflow="fold")
    if any(record.to_string is not None for record in shown):
        table.add_row("(ToString)", *(_shorten(record.to_string or "") for record in shown), style="dim")
    names = list(dict.fromkeys(name for record in shown for name in record.properties))
    for name in names[:SHOWN_PROPERTIES]:
        cells = [
            _shorten(display(record.properties[name])) if name in record.properties else Text("—") for record in shown
        ]
        table.add_row(_shown(name), *cells)
    if len(names) > SHOWN_PROPERTIES:  # a table of 100,000 rows would take minutes to draw and help nobody
        table.add_row(f"… {len(names) - SHOWN_PROPERTIES:,} more", *(Text("(--json shows all)") for _ in shown))
    if not names:
        table.add_row("(value)", *(_shorten(display(record.value)) for record in shown))
    out.print(table)


def _shorten(text: str) -> Text:
    return _shown(text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…")


def _shown(value: Any) -> Text:
    """Text from an export (or a report read back) for the console: never taken as markup — `[/]` in a value
    would stop rich — and its control characters shown, not sent to the terminal (`visible`)."""
    return Text(visible(value))


def _quoted(value: Any) -> str:
    """The same, for a line that mixes it with markup of our own."""
    return escape(visible(value))


# How the exporting machine wrote dates (docs/formats.md): for the commands that read bundles.
PackOption = Annotated[
    list[str] | None,
    typer.Option("--pack", help="A shipped rule pack to run beside the default one (repeatable; exaudit rules packs)."),
]
CultureOption = Annotated[
    str | None, typer.Option(help="Culture the exports were written in, e.g. en-GB: the order of its dates.")
]
DateFormatOption = Annotated[
    str | None, typer.Option(help="The exports' .NET date pattern, e.g. dd/MM/yyyy, when no --culture fits.")
]


@app.command()
@reports_errors
def inspect(
    files: Annotated[
        list[Path], typer.Argument(help="Export files, or bundles: folders and zips.", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Write every record as JSON to standard output.")] = False,
    encoding: Annotated[
        str | None,
        typer.Option(help="Decode text exports (CSV, list/table text, JSON) with this encoding, e.g. cp932."),
    ] = None,
    bundle: Annotated[
        bool, typer.Option("--bundle", help="Read the files as one bundle (implied for folders and zips).")
    ] = False,
    culture: CultureOption = None,
    date_format: DateFormatOption = None,
) -> None:
    """Show what exaudit reads: for files, format, encoding, record types and counts, lossy columns, problems
    and the first records; for a bundle (folders, zips), its inventory — inputs with SHA-256, servers,
    datasets, the server × dataset coverage, attribution and problems."""
    _check_encoding(encoding)
    dates = _date_settings(culture, date_format)
    if bundle or dates or any(path.is_dir() or zipfile.is_zipfile(path) for path in files if path.exists()):
        _inspect_bundle(files, as_json=as_json, encoding=encoding, dates=dates)  # dates are decided per bundle
        return
    failed = False
    if as_json:
        sys.stdout.write("[")
    for number, path in enumerate(files):
        if as_json:
            sys.stdout.write(",\n" if number else "\n")
        try:
            read = _inspect_file(path, encoding, as_json=as_json)
        except InputError as problem:
            err.print(visible(problem), markup=False)
            failed = True
            if as_json:
                sys.stdout.write(_json_text({"file": str(path), "problem": {"line": problem.line,
                                                                             "message": problem.message}}))  # fmt: skip
            continue
        if read.error is not None:
            err.print(visible(read.error), markup=False)
            failed = True
        if not as_json:
            _print_summary(path, read)
    if as_json:
        sys.stdout.write("\n]\n")
    if failed:
        raise typer.Exit(2)


def _inspect_file(path: Path, encoding: str | None, *, as_json: bool) -> _FileRead:
    """Read one file for `inspect`; with `as_json`, write its document as the records stream past."""
    from analyzer.readers.dispatch import open_export

    gc.freeze()  # as in `scan`

    reader = open_export(path, encoding=encoding)  # a file that cannot be opened raises before any output
    if not as_json:
        return _read_file(reader)
    written = 0

    def write(record: Record) -> None:
        nonlocal written
        sys.stdout.write((",\n" if written else "\n") + _json_text(_record_json(record)))
        written += 1

    sys.stdout.write('{"file": ' + _json_text(str(path)) + ', "records": [')
    read = _read_file(reader, write)
    error = read.error
    tail = {
        "format": read.reader.format,
        "encoding": read.reader.encoding,
        "complete": error is None,
        "problem": None if error is None else {"line": error.line, "message": error.message},
        "problems": [{"line": p.line, "message": p.message} for p in read.reader.problems],
        "lossy_columns": read.reader.lossy_columns,
    }
    sys.stdout.write("\n], " + _json_text(tail)[1:])  # the summary's keys after the records, in one object
    return read


def _inspect_bundle(paths: list[Path], *, as_json: bool, encoding: str | None, dates: DateSettings | None) -> None:
    from analyzer.exchange.bundle import load_bundle
    from analyzer.inventory import inventory
    from analyzer.readers.psvalues import display

    gc.freeze()  # as in `scan`
    loaded = load_bundle(paths, encoding=encoding, dates=dates)
    facts = inventory(loaded)
    if as_json:
        sys.stdout.write(_json_text(facts))
        sys.stdout.write("\n")
        return
    inputs = Table(title="Inputs", title_justify="left")
    for heading in ("file", "format", "encoding", "datasets", "records", "SHA-256", "problems"):
        inputs.add_column(heading, overflow="fold")
    for item in facts["inputs"]:
        state = "" if item["complete"] else " (incomplete)"
        inputs.add_row(
            _shown(item["path"]),
            item["format"],
            item["encoding"] or "",
            ", ".join(item["datasets"]) or "—",
            f"{item['records']}{state}",
            item["sha256"][:16] + "…",
            str(len(item["problems"])),
        )
    out.print(inputs)
    for item in facts["inputs"]:
        if item["date_order"]:
            out.print(Text.assemble("Dates in ", _shown(item["path"]), f" read {visible(item['date_order'])}"))
    servers = Table(title="Exchange servers", title_justify="left")
    for heading in ("server", "FQDN", "version", "product", "roles", "Client Access"):
        servers.add_column(heading)
    for row in facts["servers"]:
        servers.add_row(
            _shown(row["server_key"]),
            _shown(row["Fqdn"]),
            _shown(row["version"]),
            _shown(row["product"]),
            _shown(", ".join(row["roles"] or [])),
            _shown(display(row["IsClientAccessServer"])),
        )
    out.print(servers if facts["servers"] else "[yellow]No Get-ExchangeServer export in the bundle.[/]")
    # On screen, what the default packs read and what the bundle holds; --json has every dataset exaudit knows.
    default_reads = _default_pack_datasets()
    coverage = Table(title="Coverage: rows per server and dataset", title_justify="left")
    rows = facts["coverage"]
    held = {name for row in rows.values() for name, count in row.items() if count}
    names = [name for name in next(iter(rows.values()), {}) if name in default_reads or name in held]
    coverage.add_column("server")
    for name in names:
        coverage.add_column(name, justify="right")
    for server, row in rows.items():
        coverage.add_row(_shown(server), *(str(row[name]) if row[name] else "[red]—[/]" for name in names))
    out.print(coverage)
    others = [name for name in facts["missing_datasets"] if name not in default_reads]
    for name, cmdlet in facts["missing_datasets"].items():
        if name in default_reads:
            out.print(f"  [yellow]missing:[/] {name} — export it with {cmdlet}", highlight=False)
    if others:
        out.print(f"  not in the bundle, and read by no rule of the default pack ({len(others)}): {', '.join(others)} "
                  "(inspect --json names the cmdlet for each)", highlight=False)  # fmt: skip
    for name, counts in facts["attribution"].items():
        out.print(f"  attribution of {name}: " + ", ".join(f"{how} {count}" for how, count in counts.items()))
    for problem in facts["problems"]:
        line = f":{problem['line']}" if problem["line"] else ""
        where = f"{problem['file']}{line}: {problem['message']}"
        out.print(f"  [yellow]problem:[/] {_quoted(where)}", highlight=False)


def _default_pack_datasets() -> set[str]:
    """The datasets the packs a plain `scan` runs read."""
    from analyzer.pipeline import ScanOptions, prepare_rules

    _paths, rules, _packs = prepare_rules(ScanOptions([]))
    return {name for rule in rules for name in rule.datasets()}


@app.command("collect-script")
@reports_errors
def collect_script(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the script here instead of to stdout.")] = None,
) -> None:
    """Print the read-only PowerShell script that collects, from every Exchange server, what exaudit needs."""
    script = (resources.files("analyzer.exchange") / "collect.ps1").read_text(encoding="utf-8")
    if out_file is None:
        sys.stdout.write(script)
        return
    # UTF-8 with a BOM: Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page.
    out_file.write_text(script, encoding="utf-8-sig", newline="")  # its own line ends, on every platform
    err.print(f"wrote {out_file}; run it in the Exchange Management Shell (it changes nothing)")


@app.command()
@reports_errors
def samples(
    scenario: Annotated[
        str,
        typer.Argument(
            help="healthy-2019, mistakes-2016, mistakes-2016-after, mixed-formats, stig-2019, stig-2016 or large."
        ),
    ],
    folder: Annotated[Path, typer.Argument(help="Folder to write the bundle into (created).")],
    mailboxes: Annotated[int, typer.Option(help="Mailboxes in a 'large' bundle.")] = 100_000,
    mailbox_format: Annotated[
        str, typer.Option(help="clixml or csv, for the mailboxes of a 'large' bundle.")
    ] = "clixml",
) -> None:
    """Write a synthetic sample bundle (labelled as such) to try exaudit on or to benchmark it."""
    from analyzer.synthetic.samples import SCENARIOS, write_sample

    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"choose one of {', '.join(SCENARIOS)}", param_hint="SCENARIO")
    if mailbox_format not in ("clixml", "csv"):
        raise typer.BadParameter("clixml or csv", param_hint="--mailbox-format")
    write_sample(scenario, folder, mailboxes=mailboxes, mailbox_format=mailbox_format)
    out.print(f"wrote the synthetic {scenario} bundle to {folder}")
    plan = folder.parent / f"{folder.name}.plan.yaml"
    if scenario.startswith("stig-"):  # its site plan sits beside it: a file in the bundle would be read as an export
        out.print(f"and its site plan to {plan} (scan with --policy {plan})")


rules_app = typer.Typer(help="List, show, validate and test rules; print the rule schema.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def _rules(paths: list[Path] | None) -> list[Rule]:
    from analyzer.engine.loader import load_rules
    from analyzer.pipeline import packaged_rules

    return load_rules(list(paths) if paths else [packaged_rules()])


@rules_app.command("list")
@reports_errors
def rules_list(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rule files or folders (default: the shipped packs).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only rules with this tag (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON.")] = False,
) -> None:
    """List rules: id, severity, tags and title."""
    rules = [r for r in _rules(paths) if not tag or set(tag) & set(r.tags)]
    if as_json:
        rows = [
            {"id": r.id, "severity": r.severity, "tags": list(r.tags), "title": r.title, "source": r.source}
            for r in rules
        ]
        sys.stdout.write(_json_text(rows) + "\n")
        return
    table = Table("id", "severity", "tags", "title")
    for rule in rules:
        table.add_row(rule.id, rule.severity, ", ".join(rule.tags), rule.title)
    out.print(table)


@rules_app.command("packs")
@reports_errors
def rules_packs(as_json: Annotated[bool, typer.Option("--json", help="Write JSON.")] = False) -> None:
    """List the shipped rule packs: name, whether a scan runs it by default, baseline and version, rules."""
    from analyzer.engine.packs import pack_rules, packaged_packs
    from analyzer.pipeline import packaged_rules

    packs = packaged_packs(packaged_rules())
    counts = {p.name: len(pack_rules(p, packs)) for p in packs}  # a pack's own rules and those it shares
    if as_json:
        rows = [{"name": p.name, "default": p.default, "framework": p.framework, "version": p.version,
                 "rules": counts[p.name], "title": p.title} for p in packs]  # fmt: skip
        sys.stdout.write(_json_text(rows) + "\n")
        return
    table = Table("pack", "default", "baseline", "version", "rules", "title")
    for p in packs:
        table.add_row(p.name, "yes" if p.default else "--pack", p.framework or "", p.version or "",
                      str(counts[p.name]), p.title)  # fmt: skip
    out.print(table)


@rules_app.command("show")
@reports_errors
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="The rule's id.")],
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rule files or folders (default: the shipped packs).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the texts: en or ja.")] = "en",
) -> None:
    """Show one rule: texts, data it needs, parameters, check and test cases."""
    if lang not in ("en", "ja"):
        raise ExauditError(f"--lang must be en or ja, not {lang!r}")
    found = [r for r in _rules(paths) if r.id.lower() == rule_id.lower()]
    if not found:
        raise ExauditError(f"no rule {rule_id!r}; `exaudit rules list` shows the ids")
    rule = found[0]
    japanese = lang == "ja"
    title = rule.texts_ja.get("title", rule.title) if japanese else rule.title
    why = rule.texts_ja.get("rationale", rule.rationale) if japanese else rule.rationale
    fix = rule.remediation.get("text_ja", rule.remediation["text"]) if japanese else rule.remediation["text"]
    labels = ("理由", "対処") if japanese else ("Why", "Fix")
    # Rule texts are data: escaped, so `[::]:995` or a stray `[/x]` is shown, never read as console markup.
    out.print(f"[bold]{escape(rule.id)}[/] ({rule.severity}) {escape(title)}", highlight=False)
    out.print(f"source: {rule.source}\ntags: {', '.join(rule.tags)}\ndatasets: {', '.join(rule.datasets())}",
              markup=False)  # fmt: skip
    out.print(f"\n[bold]{labels[0]}[/]\n{escape(why)}\n\n[bold]{labels[1]}[/]\n{escape(fix)}", highlight=False)
    if rule.remediation.get("command"):
        out.print(f"command: {rule.remediation['command']}", markup=False, highlight=False)
    for param in rule.params.values():
        out.print(f"param {param.name} ({param.type}) = {param.default!r}  {param.description}", markup=False)
    out.print(f"check: {json.dumps(rule.check, ensure_ascii=False)}", markup=False, highlight=False)
    out.print(f"tests: {', '.join(case['name'] for case in rule.tests)}", markup=False)


@rules_app.command("validate")
@reports_errors
def rules_validate(paths: Annotated[list[Path], typer.Argument(help="Rule files or folders.")]) -> None:
    """Validate rule files against the schema and the dataset catalog; errors name file:line:column."""
    from analyzer.engine.loader import load_rules

    rules = load_rules(list(paths))
    out.print(f"{len(rules)} rule(s) valid")


@rules_app.command("test")
@reports_errors
def rules_test(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rule files or folders (default: the shipped packs).")
    ] = None,
) -> None:
    """Run the test cases the rules carry. Exit 1 if any case fails."""
    from analyzer.engine.ruletests import run_rule_tests

    results = run_rule_tests(_rules(paths))
    for result in results:
        mark = "[green]ok[/]" if result.passed else "[red]FAILED[/]"
        out.print(f"{mark} {result.rule_id} / {result.case}: {result.detail}", highlight=False)
    failed = sum(not r.passed for r in results)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@rules_app.command("schema")
@reports_errors
def rules_schema() -> None:
    """Print the rule JSON Schema (for editors: `# yaml-language-server: $schema=rule.schema.json`)."""
    from analyzer.engine.loader import rule_schema

    sys.stdout.write(_json_text(rule_schema()) + "\n")


class _Settings(NamedTuple):
    """What --param, --pack and --policy settle, the policy file read once."""

    params: dict[str, Any]
    param_sources: dict[str, str]  # per parameter: "policy" or "command line" (which wins)
    packs: list[str]
    site_plan: dict[str, str] | None


def _settings(values: list[str] | None, named_packs: list[str] | None, policy_file: Path | None) -> _Settings:
    from analyzer.pipeline import Policy, read_policy

    policy = read_policy(policy_file) if policy_file else Policy({}, [], None)
    params = dict(policy.params)
    sources = dict.fromkeys(policy.params, "policy")
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE or RULE-ID.NAME=VALUE, got {item!r}", param_hint="--param")
        params[name.strip()] = value
        sources[name.strip()] = "command line"
    packs = list(dict.fromkeys([*policy.packs, *(named_packs or [])]))
    return _Settings(params, dict(sorted(sources.items())), packs, policy.plan)


@app.command()
@reports_errors
def scan(
    paths: Annotated[list[Path] | None, typer.Argument(help="Folders, files and zips that form ONE bundle.")] = None,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Rule files or folders (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only rules with this tag (repeatable).")] = None,
    param: Annotated[list[str] | None, typer.Option(help="NAME=VALUE or RULE-ID.NAME=VALUE (repeatable).")] = None,
    pack: PackOption = None,
    policy: Annotated[Path | None, typer.Option(help="YAML policy file with `params:` (and `packs:`).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Evaluation date (YYYY-MM-DD); default: the export time.")] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(help="Exit 1 when a failing rule has this severity or worse: critical, high, medium, low, info."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the reports.")] = Path("reports"),
    formats: Annotated[
        str,
        typer.Option(
            "-f",
            "--format",
            help="Comma-separated: html, csv, json, md, junit, ckl, cklb (STIG Viewer checklists, one per server per "
            "STIG the scan ran); report.json is always written.",
        ),
    ] = "html,csv,json",
    xccdf: Annotated[
        list[Path] | None,
        typer.Option(help="A STIG's XCCDF file or DISA's zip (repeatable): its check and fix texts in the checklists."),
    ] = None,
    marking: Annotated[str | None, typer.Option(help="The checklists' marking, e.g. CUI.")] = None,
    builds: Annotated[
        Path | None,
        typer.Option(help="A newer Exchange build catalogue (CSV: product,cu,update,build) than the one shipped."),
    ] = None,
    checklist_baseline: Annotated[
        Path | None,
        typer.Option(help="A folder of earlier checklists (CKL, CKLB): keep a person's answers, list the conflicts."),
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Encoding of text exports, e.g. cp932.")] = None,
    culture: CultureOption = None,
    date_format: DateFormatOption = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the HTML and Markdown reports: en or ja.")] = "en",
    waivers: Annotated[Path | None, typer.Option("--waivers", help="YAML file of accepted risks (waivers).")] = None,
    no_waivers: Annotated[bool, typer.Option("--no-waivers", help="Ignore --waivers: the raw result.")] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="report.json of an earlier scan: write diff.md and diff.json.")
    ] = None,
    fail_on_new: Annotated[
        bool, typer.Option("--fail-on-new", help="With --baseline: exit 1 when something new fails.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the report paths.")] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Scan the packaged synthetic sample: two Exchange 2016 servers with typical mistakes."
        ),
    ] = False,
) -> None:
    """Read a bundle, evaluate the rules and write report.json (exit 0; 1 when --fail-on is reached)."""
    from analyzer.pipeline import ScanOptions, packaged_demo
    from analyzer.pipeline import scan as run_scan
    from analyzer.report.json_report import build as build_report
    from analyzer.report.output import check_output_folder
    from analyzer.report.writers import write_reports

    gc.freeze()  # the modules just imported live as long as the process: keep them out of every collection

    _check_choices(lang, fail_on)
    _check_encoding(encoding)
    if not paths and not demo:
        raise typer.BadParameter("give the bundle's folders, files or zips, or --demo", param_hint="PATH")
    if fail_on_new and baseline is None:
        raise typer.BadParameter("needs --baseline OLD.json", param_hint="--fail-on-new")
    earlier = _read_report(baseline) if baseline is not None else None  # a bad baseline stops before the scan
    check_output_folder(out_dir)  # and so does an output folder that cannot take the reports
    wanted = _formats(formats, checklists=True)
    benchmarks, earlier_checklists = _benchmarks(xccdf or []), _earlier_checklists(checklist_baseline)
    when = _evaluation_date(as_of)
    settings = _settings(param, pack, policy)
    options = ScanOptions([*(paths or []), *([packaged_demo()] if demo else [])], list(rules or []), list(tag or []),
                          settings.params, when, encoding, None if no_waivers else waivers,
                          dates=_date_settings(culture, date_format), packs=settings.packs,
                          site_plan=settings.site_plan, param_sources=settings.param_sources,
                          builds=_catalogue(builds))  # fmt: skip
    if err.is_terminal and not quiet:  # a progress bar for long reads; nothing when stderr is a file or a pipe
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:  # fmt: skip
            task = bar.add_task("reading", total=None)

            def advance(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"reading {Path(name).name}")

            result = run_scan(options, files=advance)
    else:
        result = run_scan(options)
    report = build_report(result)
    difference, extra = _compared(earlier, report, lang)
    report_formats, checklist_files = _checklists(report, result.rules, wanted, benchmarks, marking, earlier_checklists)
    written = write_reports(report, report_formats, out_dir, lang, difference, extra | checklist_files)
    if not quiet:
        _print_scan_summary(report, lang)
    new_failures = 0
    if difference is not None:
        new_failures = difference["summary"]["new"]
        if not quiet:
            _print_difference(difference, lang)
    for target in written:
        _print_path(target)
    html = next((target for target in written if target.name == "report.html"), None)
    if html is not None and not quiet:  # on stderr: scripts read the paths on stdout
        err.print(visible(labels(lang)["console_open"].format(path=html)), markup=False)
    if fail_on is not None and _reaches(fail_on, report):
        raise typer.Exit(1)
    if fail_on_new and new_failures:
        raise typer.Exit(1)


def _benchmarks(paths: list[Path]) -> list[Any]:
    """The XCCDF files given with --xccdf, read before the scan: one that is not an XCCDF stops it, located."""
    from analyzer.baselines.xccdf import read_xccdf

    return [read_xccdf(path) for path in paths]


def _catalogue(path: Path | None) -> Any:
    """The build catalogue given with --builds, read before the scan: a bad row stops it, located."""
    if path is None:
        return None
    from analyzer.baselines.builds import from_file

    return from_file(path)


def _earlier_checklists(folder: Path | None) -> list[Any] | None:
    """The checklists in --checklist-baseline, read before the scan: a damaged one stops it, located."""
    if folder is None:
        return None
    from analyzer.report.checklist_baseline import read_earlier

    return read_earlier(folder)


def _checklists(report: dict[str, Any], rules: list[Any], wanted: list[str], benchmarks: list[Any],
                marking: str | None, earlier: list[Any] | None) -> tuple[list[str], dict[str, bytes]]:  # fmt: skip
    """The report formats asked for, and the STIG Viewer checklists (-f ckl,cklb) for every server of every STIG
    the scan ran."""
    from analyzer.report.checklist_files import render
    from analyzer.report.checklists import FORMATS

    others = [name for name in wanted if name not in FORMATS]
    return others, render(report, rules, wanted, benchmarks, marking, earlier)


def _compared(earlier: dict[str, Any] | None, report: dict[str, Any], lang: str) -> tuple[Any, dict[str, bytes]]:
    """With a baseline: the comparison, and diff.md and diff.json to write beside the reports."""
    from analyzer.report.diff import compare
    from analyzer.report.diff import markdown as diff_markdown

    if earlier is None:
        return None, {}
    difference = compare(earlier, report)
    as_json = json.dumps(difference, ensure_ascii=False, indent=2) + "\n"
    return difference, {"diff.md": diff_markdown(difference, language=lang).encode("utf-8"),
                        "diff.json": as_json.encode("utf-8")}  # fmt: skip


def _print_path(path: Path) -> None:
    """A written file's path, whole on one line whatever the console width: scripts read these lines."""
    out.print(visible(str(path)), markup=False, highlight=False, soft_wrap=True)


def _date_settings(culture: str | None, date_format: str | None) -> DateSettings | None:
    """--culture or --date-format (not both): how the exporting machine wrote dates no file decides."""
    from analyzer.exchange.dates import settings_for_culture, settings_for_pattern

    if culture and date_format:
        raise typer.BadParameter("give --culture or --date-format, not both", param_hint="--date-format")
    try:
        if culture:
            return settings_for_culture(culture)
        return settings_for_pattern(date_format) if date_format else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--culture" if culture else "--date-format") from None


def _check_encoding(encoding: str | None) -> None:
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise typer.BadParameter(f"unknown encoding {encoding!r} (e.g. utf-8, utf-16, cp932, cp1252)",
                                 param_hint="--encoding") from None  # fmt: skip


def _check_choices(lang: str, fail_on: str | None) -> None:
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"one of {', '.join(LANGUAGES)}", param_hint="--lang")
    if fail_on is not None and fail_on not in SEVERITY_ORDER:
        raise typer.BadParameter(f"one of {', '.join(SEVERITY_ORDER)}", param_hint="--fail-on")


def _formats(formats: str, *, checklists: bool = False) -> list[str]:
    """The formats asked for; `checklists`: the command can write STIG Viewer checklists too."""
    from analyzer.report.checklists import FORMATS as CHECKLISTS
    from analyzer.report.writers import RENDERERS

    known = [*RENDERERS, *(CHECKLISTS if checklists else ())]
    wanted = list(dict.fromkeys(f.strip() for f in formats.split(",") if f.strip()))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise typer.BadParameter(
            f"unknown format(s) {', '.join(unknown)}; available: {', '.join(known)}", param_hint="--format"
        )
    return wanted


def _evaluation_date(as_of: str | None) -> dt.datetime | None:
    from analyzer.pipeline import EARLIEST_AS_OF, LATEST_AS_OF

    if not as_of:
        return None
    try:
        when = dt.datetime.fromisoformat(as_of).replace(tzinfo=dt.UTC)
    except ValueError:
        raise typer.BadParameter("expected a date like 2026-11-27", param_hint="--as-of") from None
    if not EARLIEST_AS_OF <= when.date() <= LATEST_AS_OF:
        raise typer.BadParameter(f"expected a date from {EARLIEST_AS_OF} to {LATEST_AS_OF}, got {as_of}",
                                 param_hint="--as-of")  # fmt: skip
    return when


def _reaches(fail_on: str, report: dict[str, Any]) -> bool:
    """Whether a failing rule has the --fail-on severity or worse."""
    threshold = SEVERITY_ORDER[fail_on]
    return any(r["outcome"] == "fail" and SEVERITY_ORDER[r["severity"]] >= threshold for r in report["results"])


@app.command()
@reports_errors
def batch(
    folders: Annotated[list[Path], typer.Argument(help="Folders whose sub-folders and zips are bundles, or zips.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (default 1).")] = 1,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Rule files or folders (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only rules with this tag (repeatable).")] = None,
    param: Annotated[list[str] | None, typer.Option(help="NAME=VALUE or RULE-ID.NAME=VALUE (repeatable).")] = None,
    pack: PackOption = None,
    policy: Annotated[Path | None, typer.Option(help="YAML policy file with `params:` (and `packs:`).")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Evaluation date (YYYY-MM-DD); default: each export's time.")
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 when a bundle fails a rule of this severity or worse.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the portfolio and a folder per bundle.")] = Path(
        "reports"
    ),
    formats: Annotated[str, typer.Option("-f", "--format", help="Formats of each bundle's reports.")] = "html,csv,json",
    encoding: Annotated[str | None, typer.Option(help="Encoding of text exports, e.g. cp932.")] = None,
    culture: CultureOption = None,
    date_format: DateFormatOption = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the HTML and Markdown reports: en or ja.")] = "en",
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the portfolio paths.")] = False,
) -> None:
    """Scan each sub-folder or zip as its own bundle; write its reports to OUT/NAME/ and a portfolio (HTML, CSV,
    JSON) of all. Goes on when a bundle fails; exit 2 if one did, else 1 when --fail-on is reached, else 0."""
    from analyzer.batch import IGNORED_BECAUSE, discover, make_jobs, portfolio_rows, run_batch
    from analyzer.pipeline import ScanOptions, generated_at_text, prepare_rules
    from analyzer.report.output import check_output_folder
    from analyzer.report.portfolio import render as render_portfolio

    gc.freeze()  # as in `scan`

    _check_choices(lang, fail_on)
    _check_encoding(encoding)
    wanted = _formats(formats)
    # With several bundles at once the cores are busy already: a large file is then read in one process.
    settings = _settings(param, pack, policy)
    options = ScanOptions([], list(rules or []), list(tag or []), settings.params,
                          _evaluation_date(as_of), encoding, split_large=jobs == 1,
                          dates=_date_settings(culture, date_format), packs=settings.packs,
                          site_plan=settings.site_plan, param_sources=settings.param_sources)  # fmt: skip
    prepare_rules(options)  # a broken rule or parameter value stops the batch before any bundle
    check_output_folder(out_dir)
    found = discover(folders)
    work = make_jobs(found, out_dir, options, wanted, lang)
    for path, why in found.ignored:
        err.print(visible(f"{path}: not scanned — {IGNORED_BECAUSE[why]}"), markup=False)
    if not work:
        raise ExauditError(f"{folders[0]}: no bundle to scan: a bundle is a sub-folder or a zip of the folder given")

    def progress(outcome: BundleOutcome) -> None:
        if quiet:
            return
        done = f"{outcome.seconds:.1f} s"
        if outcome.status == "failed":
            err.print(visible(f"{outcome.name}: FAILED after {done} — {outcome.error}"), markup=False)
        else:
            verdicts = ", ".join(f"{p} {s}" for p, s in outcome.verdicts.items()) or "no verdict"
            err.print(f"{outcome.name}: {verdicts} — {outcome.summary.get('fail', 0)} failing rule(s) ({done})",
                      markup=False)  # fmt: skip

    outcomes = run_batch(work, jobs, progress)
    files = render_portfolio(portfolio_rows(outcomes), found.ignored, generated_at_text(), lang)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
        _print_path(out_dir / name)
    failed = [o for o in outcomes if o.status == "failed"]
    if any(o.internal for o in failed):  # the worst code of any bundle: a bug or a dead worker is 3, never 2
        raise typer.Exit(3)
    if failed:
        raise typer.Exit(2)
    if fail_on is not None:
        worst = [o.worst_failing_severity() for o in outcomes]
        if any(w is not None and SEVERITY_ORDER[w] >= SEVERITY_ORDER[fail_on] for w in worst):
            raise typer.Exit(1)


def _read_report(path: Path) -> dict[str, Any]:
    import jsonschema

    from analyzer.report.json_report import report_schema
    from analyzer.report.output import check_complete

    try:
        check_complete(path)
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(str(path), 0, f"cannot be read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 0)
        raise InputError(str(path), line, f"not an exaudit report.json: {error}") from None
    problems = sorted(jsonschema.Draft202012Validator(report_schema()).iter_errors(report), key=lambda e: e.path)
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "(top)"
        raise InputError(str(path), 0, f"not an exaudit report.json: {problems[0].message} at {where}")
    return report


@app.command()
@reports_errors
def diff(
    old: Annotated[Path, typer.Argument(help="report.json of the earlier scan.")],
    new: Annotated[Path, typer.Argument(help="report.json of the later scan.")],
    output: Annotated[str, typer.Option("--format", "-f", help="text, md or json.")] = "text",
    fail_on_new: Annotated[bool, typer.Option("--fail-on-new", help="Exit 1 when something new fails.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the text and Markdown: en or ja.")] = "en",
) -> None:
    """Compare two scans: new, fixed, still failing, unresolved and gone findings, and verdict changes."""
    from analyzer.report.diff import compare
    from analyzer.report.diff import markdown as diff_markdown

    if output not in ("text", "md", "json"):
        raise typer.BadParameter("text, md or json", param_hint="--format")
    _check_choices(lang, None)
    try:
        difference = compare(_read_report(old), _read_report(new))
    except ValueError as error:
        raise ExauditError(f"{new}: {error}") from None
    # JSON and Markdown go to stdout as they are: a console would wrap long lines and break them.
    if output == "json":
        typer.echo(_json_text(difference))
    elif output == "md":
        typer.echo(diff_markdown(difference, language=lang), nl=False)
    else:
        _print_difference(difference, lang)
    if fail_on_new and difference["summary"]["new"]:
        raise typer.Exit(1)


def _print_difference(difference: dict[str, Any], lang: str = "en") -> None:
    from analyzer.report.diff import answer_lines

    t = labels(lang)
    counts = difference["summary"]
    _line(", ".join(f"{t['classes'][name]} {count}" for name, count in counts.items()))
    totals = difference.get("totals")
    if totals:
        _line(f"{t['failing_rows']}: {totals['before']} -> {totals['after']}")
    for line in answer_lines(difference, lang):
        _line(line)
    table = Table(t["col_class"], t["col_rule"], t["col_severity"], t["col_server"], t["col_object"])
    for name in (
        "new",
        "fixed",
        "unresolved",
        "gone",
        "newly_waived",
        "waiver_expired",
        "newly_evaluated",
        "still_failing",
    ):
        for finding in difference["findings"][name]:
            severity = t["severities"].get(finding["severity"], finding["severity"])
            table.add_row(t["classes"][name], _shown(finding["rule_id"]), _shown(severity), _shown(finding["server"]),
                          _shown(finding["object"]))  # fmt: skip
    if table.row_count:
        out.print(table)


def _line(text: str) -> None:
    """One line of the console summary, never broken at the terminal width (a log or a pipe keeps it whole)."""
    out.print(visible(text), markup=False, highlight=False, soft_wrap=True)


def _print_verdicts(report: dict[str, Any], lang: str) -> None:
    """Each protocol's two answers, with the reasons of any that is not good, as the report's first screen has
    them, in the report's language."""
    t, key = labels(lang), "_ja" if lang == "ja" else ""
    for protocol, verdict in sorted(report["verdicts"].items()):
        safety = verdict["safety"]
        ready, risk = t["status"][verdict["status"]], t["safety_status"][safety["status"]]
        _line(f"{protocol.upper():6s} {t['readiness']}: {ready} · {t['safety']}: {risk}")
        for reason in verdict[f"reasons{key}"]:
            _line(f"  {t['readiness']}: {reason}")
        for reason in safety[f"reasons{key}"]:
            _line(f"  {t['safety']}: {reason}")


def _print_scan_summary(report: dict[str, Any], lang: str = "en") -> None:
    t, japanese = labels(lang), lang == "ja"
    summary = report["summary"]
    _print_verdicts(report, lang)
    outcomes = ("pass", "fail", "not_evaluated", *(("not_reviewed",) if summary.get("not_reviewed") else ()),
                "not_applicable", "error")  # fmt: skip
    _line(f"{t['rule_counts']}: " + ", ".join(f"{t['outcomes'][o]} {summary[o]}" for o in outcomes))
    for result in report["results"]:
        if result["outcome"] in ("fail", "not_evaluated", "error"):
            title = (result.get("title_ja") if japanese else None) or result["title"]
            reason = (result.get("reason_ja") if japanese else None) or result["reason"]
            why = f" — {reason}" if reason else ""
            outcome, severity = t["outcomes"][result["outcome"]], t["severities"][result["severity"]]
            _line(f"  {_padded(outcome, 13)} {_padded(severity, 8)} {result['rule_id']} {title}{why}")
            for finding in result["findings"][:3]:
                _line(f"      {(finding.get('message_ja') if japanese else None) or finding['message']}")
    if report["problems"]:
        first = "; ".join(str(p.get("file", "")).rsplit("/", 1)[-1] for p in report["problems"][:3])
        more = ", …" if len(report["problems"]) > 3 else ""
        _line(t["console_problems"].format(count=len(report["problems"]), first=f"{first}{more}"))


def _padded(text: str, width: int) -> str:
    """`text` padded to `width` terminal cells (a Japanese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


def _tolerant_streams() -> None:
    """Output redirected to a file or a pipe is encoded in the system's code page (cp932 on Japanese Windows,
    cp1252 on Western): a character it cannot hold (an em dash, a Japanese word under cp1252) is replaced, never
    the end of the run."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def main() -> None:
    _tolerant_streams()
    # What the imports made lives as long as the process: out of the collector's sight, each collection during
    # a scan walks only what the scan made (measured: ~20 ms less per full collection; a scan makes several).
    gc.freeze()
    try:
        app()
    except ExauditError as error:
        err.print(visible(error), markup=False)
        sys.exit(2)
    except Exception as error:  # outside any command (typer itself)
        _internal_error(error)
        sys.exit(3)
