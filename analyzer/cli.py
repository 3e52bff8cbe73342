"""The `exaudit` command: options in, pipeline call, exit code out. Errors of the project's own type are
printed once as `file:line: message` and end the command with exit code 2."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from analyzer import __version__
from analyzer.errors import ExauditError, InputError
from analyzer.model import Record
from analyzer.readers.dispatch import ExportReader, open_export
from analyzer.readers.psvalues import display, to_plain

app = typer.Typer(
    name="exaudit",
    help="Offline analyzer for Microsoft Exchange configuration exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

SHOWN_RECORDS = 3
SHOWN_VALUE_CHARS = 70


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


def _read_file(path: Path, encoding: str | None) -> tuple[ExportReader, list[Record], InputError | None]:
    """The reader, the records that could be read, and the error that stopped reading (if any)."""
    reader = open_export(path, encoding=encoding)
    records: list[Record] = []
    try:
        records.extend(reader)
    except InputError as error:
        return reader, records, error
    return reader, records, None


def _record_json(record: Record) -> dict[str, Any]:
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


def _print_summary(path: Path, reader: ExportReader, records: list[Record], error: InputError | None) -> None:
    types = Counter(record.type_name or "(not stated in the file)" for record in records)
    state = "[bold red]INCOMPLETE[/] (read up to the damage)" if error else "complete"
    out.print(f"[bold]{path}[/]")
    out.print(f"  format:   {reader.format}    encoding: {reader.encoding}    records: {len(records)}    {state}")
    for type_name, count in types.most_common():
        out.print(f"  type:     {type_name} × {count}")
    for column, reason in reader.lossy_columns.items():
        out.print(f"  [yellow]lossy:[/]    {column}: {reason}", markup=True, highlight=False)
    for problem in reader.problems:
        out.print(f"  [yellow]problem:[/]  {problem}", highlight=False)
    shown = records[:SHOWN_RECORDS]
    if not shown:
        return
    table = Table(title=f"first {len(shown)} of {len(records)} records", title_justify="left")
    table.add_column("property", style="cyan", no_wrap=True)
    for record in shown:
        table.add_column(f"#{record.source.index} (line {record.source.line})", overflow="fold")
    if any(record.to_string is not None for record in shown):
        table.add_row("(ToString)", *(_shorten(record.to_string or "") for record in shown), style="dim")
    names = list(dict.fromkeys(name for record in shown for name in record.properties))
    for name in names:
        cells = [_shorten(display(record.properties[name])) if name in record.properties else "—" for record in shown]
        table.add_row(name, *cells)
    if not names:
        table.add_row("(value)", *(_shorten(display(record.value)) for record in shown))
    out.print(table)


def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


@app.command()
def inspect(
    files: Annotated[list[Path], typer.Argument(help="Export files to read.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Write every record as JSON to standard output.")] = False,
    encoding: Annotated[
        str | None,
        typer.Option(help="Decode text exports (CSV, list/table text, JSON) with this encoding, e.g. cp932."),
    ] = None,
) -> None:
    """Show what exaudit reads from export files: format, encoding, record types and counts, lossy columns,
    problems, and the first records."""
    failed = False
    documents: list[dict[str, Any]] = []
    for path in files:
        try:
            reader, records, error = _read_file(path, encoding)
        except InputError as problem:
            err.print(str(problem), markup=False)
            failed = True
            continue
        if error is not None:
            err.print(str(error), markup=False)
            failed = True
        if as_json:
            documents.append(
                {
                    "file": str(path),
                    "format": reader.format,
                    "encoding": reader.encoding,
                    "complete": error is None,
                    "problem": None if error is None else {"line": error.line, "message": error.message},
                    "problems": [{"line": p.line, "message": p.message} for p in reader.problems],
                    "lossy_columns": reader.lossy_columns,
                    "records": [_record_json(record) for record in records],
                }
            )
        else:
            _print_summary(path, reader, records, error)
    if as_json:
        json.dump(documents, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    if failed:
        raise typer.Exit(2)


def main() -> None:
    try:
        app()
    except ExauditError as error:
        err.print(str(error), markup=False)
        sys.exit(2)
