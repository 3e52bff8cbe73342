"""`batch`: many bundles (a consultant's folder of customers), each scanned on its own in a worker process.

Each sub-folder or zip of the folders given is one bundle; its reports go to `<out>/<name>/`. A bundle that cannot
be scanned is recorded as failed with its error and the others go on; a worker process that dies (killed for
memory, say) fails only the bundle it was scanning — the bundles that shared its pool are run again one by one.
The outcomes are sorted by bundle name, so the portfolio does not depend on which worker finished first.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from analyzer import processes, windows_paths
from analyzer.engine.loader import SEVERITIES
from analyzer.engine.verdicts import PROTOCOLS
from analyzer.errors import ExauditError
from analyzer.exchange.sources import is_documentation
from analyzer.pipeline import ScanOptions, scan
from analyzer.readers.detect import detect_format
from analyzer.report.json_report import build as build_report
from analyzer.report.writers import write_reports

PORTFOLIO_FILES = ("portfolio.html", "portfolio.csv", "portfolio.json")
_MAX_NAME = 64
_UNSAFE_NAME = re.compile(r"[^\w.\-]+")  # \w keeps letters of every script: a Japanese customer name stays readable


@dataclass(frozen=True)
class BundleJob:
    name: str  # unique in the batch; also the name of its report folder
    source: Path
    out: Path
    options: ScanOptions
    formats: tuple[str, ...]
    language: str


@dataclass
class BundleOutcome:
    name: str
    source: str
    status: str  # "scanned" or "failed"
    error: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)  # protocol -> status
    summary: dict[str, int] = field(default_factory=dict)  # rule outcomes
    failing_by_severity: dict[str, int] = field(default_factory=dict)
    failing_findings: int = 0
    input_files: int = 0
    input_problems: int = 0
    servers: int = 0
    reports: list[str] = field(default_factory=list)  # relative to the batch's --out
    seconds: float = 0.0  # console only: the portfolio files stay deterministic
    internal: bool = False  # failed through a bug or a dead worker, not through its input: batch exits 3

    def worst_failing_severity(self) -> str | None:
        return next((s for s in SEVERITIES if self.failing_by_severity.get(s)), None)


IGNORED_BECAUSE = {"hidden": "hidden (its name starts with a dot)",
                   "not_a_bundle": "not a folder or zip: a bundle is a sub-folder or a zip"}  # fmt: skip


@dataclass
class Discovery:
    bundles: list[tuple[str, Path]]  # (name, folder or zip)
    ignored: list[tuple[Path, str]]  # (path, why: a key of IGNORED_BECAUSE): nothing is skipped silently


def _not_itself_a_bundle(root: Path) -> None:
    """Refuse a folder that is one bundle (exports or a manifest at its top level): its per-server sub-folders
    would otherwise each be scanned as a bundle of their own, every one of them missing most of the data."""
    exports = [p.name for p in sorted(root.iterdir()) if p.is_file() and _is_export(p)]
    if exports:
        raise ExauditError(
            f"{root}: this folder is itself one bundle (it holds {', '.join(exports[:3])}"
            f"{', …' if len(exports) > 3 else ''}): scan it with `exaudit scan {root}`; `batch` takes a folder "
            "whose sub-folders or zips are bundles"
        )


def _is_export(path: Path) -> bool:
    if path.name.lower() == "manifest.json":
        return True
    if is_documentation(path.name):
        return False
    try:
        return detect_format(path) is not None
    except (ExauditError, OSError):
        return False


def discover(roots: Sequence[Path]) -> Discovery:
    """Each sub-folder and zip of every root is a bundle; a zip given directly is one bundle. Names are made safe
    for a folder name and unique (`name`, `name-2`, …) in the order found."""
    found: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    for root in roots:
        if root.is_file() and root.suffix.lower() == ".zip":
            found.append(root)
        elif root.is_dir():
            _not_itself_a_bundle(root)
            for child in sorted(root.iterdir()):
                if child.name.startswith("."):
                    ignored.append((child, "hidden"))
                elif child.is_dir() or (child.is_file() and child.suffix.lower() == ".zip"):
                    found.append(child)
                else:
                    ignored.append((child, "not_a_bundle"))
        else:
            raise ExauditError(f"{root}: not a folder of bundles nor a zip")
    taken: set[str] = set()
    bundles = []
    for path in found:
        name = _folder_name(path.stem if path.is_file() else path.name)
        unique, number = name, 1
        while unique.lower() in taken:  # Windows and macOS folders ignore case: `Contoso` and `contoso` are one
            number += 1
            unique = f"{name}-{number}"
        taken.add(unique.lower())
        bundles.append((unique, path))
    return Discovery(bundles, ignored)


def _folder_name(given: str) -> str:
    """A report folder's name that every platform can create: letters of any script, digits, `_.-`; not a device
    name Windows reserves (`CON`, `aux`); short enough to keep the reports' paths well under Windows' limit."""
    base = _UNSAFE_NAME.sub("_", given).strip("._")[:_MAX_NAME].strip("._") or "bundle"
    if base.lower() in PORTFOLIO_FILES or windows_paths.is_reserved(base):  # a portfolio file's place, or a device
        base += "-bundle"
    return base


def make_jobs(discovery: Discovery, out: Path, options: ScanOptions, formats: Iterable[str], language: str
              ) -> list[BundleJob]:  # fmt: skip
    return [BundleJob(name, path, out / name, replace(options, paths=[path]), tuple(formats), language)
            for name, path in discovery.bundles]  # fmt: skip


def scan_bundle(job: BundleJob) -> BundleOutcome:
    """Scan one bundle and write its reports; never raises (a failure is an outcome)."""
    started = time.perf_counter()
    try:
        report = build_report(scan(job.options))
        written = write_reports(report, list(job.formats), job.out, job.language)
    except ExauditError as error:
        return BundleOutcome(job.name, str(job.source), "failed", str(error), seconds=time.perf_counter() - started)
    except Exception as error:  # a bug must not stop the other bundles; its type and message go into the outcome
        detail = "".join(traceback.format_exception_only(error)).strip()
        return BundleOutcome(job.name, str(job.source), "failed", f"internal error: {detail}",
                             seconds=time.perf_counter() - started, internal=True)  # fmt: skip
    failing = [r for r in report["results"] if r["outcome"] == "fail"]
    return BundleOutcome(
        name=job.name,
        source=str(job.source),
        status="scanned",
        verdicts={protocol: verdict["status"] for protocol, verdict in sorted(report["verdicts"].items())},
        summary=dict(report["summary"]),
        failing_by_severity={s: sum(r["severity"] == s for r in failing) for s in SEVERITIES},
        failing_findings=sum(f["outcome"] == "fail" for r in report["results"] for f in r["findings"]),
        input_files=len(report["inputs"]),
        input_problems=len(report["problems"]),
        servers=len(report["servers"]),
        reports=[str(p.relative_to(job.out.parent)) for p in written],
        seconds=time.perf_counter() - started,
    )


Worker = Callable[[BundleJob], BundleOutcome]
Done = Callable[[BundleOutcome], None]


def _died(job: BundleJob) -> BundleOutcome:
    why = "the worker process died while scanning this bundle (out of memory?)"
    return BundleOutcome(job.name, str(job.source), "failed", why, internal=True)


def _pool_run(jobs: list[BundleJob], workers: int, worker: Worker, done: Done) -> list[BundleJob]:
    """Run jobs in a pool of `workers` processes; the jobs a dead process took down with it are returned."""
    broken: list[BundleJob] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=processes.context()) as pool:
        futures: dict[Future[BundleOutcome], BundleJob] = {pool.submit(worker, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                done(future.result())
            except BrokenProcessPool:
                broken.append(futures[future])
    return broken


def run_batch(jobs: list[BundleJob], workers: int, done: Done, worker: Worker = scan_bundle) -> list[BundleOutcome]:
    """Every job's outcome, sorted by name. `done` sees each as it arrives (for progress lines)."""
    outcomes: list[BundleOutcome] = []

    def collect(outcome: BundleOutcome) -> None:
        outcomes.append(outcome)
        done(outcome)

    broken = _pool_run(jobs, max(1, min(workers, len(jobs))), worker, collect) if jobs else []
    for job in sorted(broken, key=lambda j: j.name):  # alone, so a second death names the bundle that caused it
        if _pool_run([job], 1, worker, collect):
            collect(_died(job))
    return sorted(outcomes, key=lambda o: o.name)


def portfolio_rows(outcomes: list[BundleOutcome]) -> list[dict[str, Any]]:
    """One row per bundle for the portfolio files (no timings: they would make two runs differ)."""
    seen = {p for o in outcomes for p in o.verdicts}
    protocols = [p for p in PROTOCOLS if p in seen] + sorted(seen - set(PROTOCOLS))
    rows = []
    for outcome in outcomes:
        row: dict[str, Any] = {"bundle": outcome.name, "source": outcome.source, "status": outcome.status}
        row.update({protocol: outcome.verdicts.get(protocol, "") for protocol in protocols})
        row.update({f"rules_{k}": outcome.summary.get(k, 0) for k in ("pass", "fail", "not_evaluated", "error")})
        row.update({f"failing_{s}": outcome.failing_by_severity.get(s, 0) for s in SEVERITIES})
        row.update({"failing_findings": outcome.failing_findings, "servers": outcome.servers,
                    "input_files": outcome.input_files, "input_problems": outcome.input_problems,
                    "report": next((r for r in outcome.reports if r.endswith("report.html")), ""),
                    "error": outcome.error})  # fmt: skip
        rows.append(row)
    return rows
