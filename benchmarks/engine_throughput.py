"""Rule evaluation speed on prebuilt datasets, and its share of a whole scan.

    python benchmarks/engine_throughput.py [--mailboxes 1000000] [--servers 50] [--scan-mailboxes 100000]

(1) 50 rules — row, count and join rules mixed — over prebuilt datasets of --mailboxes cas_mailbox rows
    (2 % failing each row rule) and --servers servers, findings included. Target: ≤ 2 s.
(2) A synthetic --scan-mailboxes CLIXML bundle scanned end to end with the shipped rules: the share of the
    whole scan spent evaluating rules. Target: ≤ 5 %.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml


def _datasets(mailboxes: int, servers: int) -> dict[str, Any]:
    from analyzer.exchange.bundle import Dataset
    from analyzer.exchange.catalog import BY_NAME
    from analyzer.exchange.values import ServerVersion

    rng = np.random.default_rng(7)
    names = [f"EXCH{i:02d}" for i in range(servers)]
    failing = rng.random(mailboxes) < 0.02
    index = np.arange(mailboxes)
    smtp = pd.array([f"user{i}@contoso.com" for i in index], dtype="string")
    cas = pd.DataFrame(
        {
            "Name": pd.array([f"user{i}" for i in index], dtype="string"),
            "PrimarySmtpAddress": smtp,
            "PopEnabled": pd.array(~failing, dtype="boolean"),
            "ImapEnabled": pd.array(~np.roll(failing, 1), dtype="boolean"),
            "PopUseProtocolDefaults": pd.array(~np.roll(failing, 2), dtype="boolean"),
            "ImapUseProtocolDefaults": pd.array(~np.roll(failing, 3), dtype="boolean"),
            "MAPIEnabled": pd.array(~np.roll(failing, 4), dtype="boolean"),
            "OWAEnabled": pd.array(~np.roll(failing, 5), dtype="boolean"),
            "ActiveSyncEnabled": pd.array(~np.roll(failing, 6), dtype="boolean"),
            "ServerName": pd.array([names[i % servers].lower() for i in index], dtype="string"),
            "identity": smtp,
            "server_key": pd.array([None] * mailboxes, dtype="string"),
            "source_file": "cas.xml",
            "source_line": index * 90 + 2,
        }
    )
    version = ServerVersion(15, 2, 1544, 4)
    server_frame = pd.DataFrame(
        {
            "Name": names,
            "Fqdn": [f"{n.lower()}.contoso.com" for n in names],
            "AdminDisplayVersion": [version] * servers,
            "ServerRole": [["Mailbox"]] * servers,
            "IsClientAccessServer": pd.array([True] * servers, dtype="boolean"),
            "IsMailboxServer": pd.array([True] * servers, dtype="boolean"),
            "IsEdgeServer": pd.array([False] * servers, dtype="boolean"),
            "identity": names,
            "server_key": pd.array(names, dtype="string"),
            "server_fqdn": [f"{n.lower()}.contoso.com" for n in names],
            "product": "Exchange 2019",
            "version": str(version),
            "source_file": "servers.xml",
            "source_line": 2,
        }
    )
    services = []
    for i, name in enumerate(names):
        for service in ("MSExchangePOP3", "MSExchangePOP3BE", "MSExchangeIMAP4", "MSExchangeIMAP4BE"):
            stopped = i == 7 and service.startswith("MSExchangePOP3")  # one server (2 %) with POP3 stopped
            services.append(
                {
                    "Name": service,
                    "Status": "Stopped" if stopped else "Running",
                    "StartType": "Manual" if stopped else "Automatic",
                    "identity": service,
                    "server_key": name,
                    "server_fqdn": f"{name.lower()}.contoso.com",
                    "source_file": f"{name}/services.xml",
                    "source_line": 2,
                }
            )
    service_frame = pd.DataFrame(services).astype(
        {"Name": "string", "Status": "string", "StartType": "string", "server_key": "string"}
    )
    return {
        "cas_mailbox": Dataset("cas_mailbox", BY_NAME["cas_mailbox"], cas),
        "exchange_server": Dataset("exchange_server", BY_NAME["exchange_server"], server_frame),
        "service": Dataset("service", BY_NAME["service"], service_frame),
    }


_ROW_COLUMNS = [
    "PopEnabled",
    "ImapEnabled",
    "PopUseProtocolDefaults",
    "ImapUseProtocolDefaults",
    "MAPIEnabled",
    "OWAEnabled",
    "ActiveSyncEnabled",
]


def _rule(number: int) -> dict[str, Any]:
    # A third each of row, count and join rules; every other row rule has a scope and a string test.
    kind = {0: 0 if number % 2 else 2, 1: 3, 2: 4}[number % 3]
    base: dict[str, Any] = {
        "id": f"BENCH-{number:03d}",
        "title": f"benchmark rule {number}",
        "severity": "medium",
        "rationale": "benchmark",
        "remediation": {"text": "fix", "command": "Set-CASMailbox -Identity {identity} -X $true"},
        "tests": [
            {"name": "a", "data": {}, "expect": {"outcome": "pass"}},
            {"name": "b", "data": {}, "expect": {"outcome": "fail"}},
        ],
    }
    column = _ROW_COLUMNS[number % len(_ROW_COLUMNS)]
    if kind in (0, 1):  # row rules: 2 % of the mailboxes fail
        base["check"] = {"each": {"dataset": "cas_mailbox"}, "assert": {"column": column, "eq": True}}
    elif kind == 2:  # a row rule with a scope and a string test
        base["check"] = {
            "each": {"dataset": "cas_mailbox", "where": {"column": "PrimarySmtpAddress", "regex": "@contoso\\.com$"}},
            "assert": {"any": [{"column": column, "eq": True}, {"column": "Name", "in": ["admin"]}]},
        }
    elif kind == 3:  # aggregates
        base["check"] = {
            "count": {"dataset": "cas_mailbox"},
            "matching": {"column": column, "eq": True},
            "ratio_at_least": 0.95,
        }
    else:  # joins: every server runs its protocol services
        base["check"] = {
            "for_each": {"dataset": "exchange_server", "where": {"column": "IsClientAccessServer", "eq": True}},
            "join": {
                "dataset": "service",
                "where": {"column": "Name", "in": ["MSExchangePOP3", "MSExchangePOP3BE"]},
                "assert": {"all": [{"column": "Status", "eq": "Running"}, {"column": "StartType", "eq": "Automatic"}]},
            },
        }
    return base


def measure_rules(mailboxes: int, servers: int) -> None:
    from analyzer.engine.evaluate import Evidence, evaluate_rules
    from analyzer.engine.loader import load_rules

    datasets = _datasets(mailboxes, servers)
    servers_table = datasets["exchange_server"].frame.rename(columns={"ServerRole": "roles"})
    with tempfile.TemporaryDirectory() as folder:
        for number in range(50):
            Path(folder, f"r{number:03d}.yaml").write_text(yaml.safe_dump(_rule(number)))
        rules = load_rules([Path(folder)])
    times = []
    for _run in range(3):  # fresh evidence each time: no comparison mask is carried over between runs
        evidence = Evidence(datasets, servers_table, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        start = time.perf_counter()
        results = evaluate_rules(rules, evidence)  # exactly what `scan` calls
        times.append(time.perf_counter() - start)
    findings = sum(len(r.findings) for r in results)
    outcomes = pd.Series([r.outcome for r in results]).value_counts().to_dict()
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"(1) 50 rules over {mailboxes:,} mailboxes and {servers} servers: median {sorted(times)[1]:.2f} s "
        f"(runs {runs}; target ≤ 2 s); {findings:,} findings; outcomes {outcomes}"
    )


def measure_scan_share(mailboxes: int) -> None:
    """The 50 benchmark rules (and, for comparison, the shipped pack) over a real scan of a large bundle."""
    from analyzer.pipeline import ScanOptions, scan
    from analyzer.synthetic.samples import write_sample

    with tempfile.TemporaryDirectory() as folder:
        bundle, rules = Path(folder) / "large", Path(folder) / "rules"
        rules.mkdir()
        for number in range(50):
            (rules / f"r{number:03d}.yaml").write_text(yaml.safe_dump(_rule(number)))
        write_sample("large", bundle, mailboxes=mailboxes)
        for label, rule_paths in (("the 50 benchmark rules", [rules]), ("the shipped rule pack", [])):
            marks: list[tuple[str, float]] = []

            def mark(step: str, into: list[tuple[str, float]] = marks) -> None:
                into.append((step, time.perf_counter()))

            start = time.perf_counter()
            scan(ScanOptions([bundle], rule_paths), progress=mark)
            total = time.perf_counter() - start
            evaluating = next(t for step, t in marks if step.startswith("evaluating"))
            rules_time = start + total - evaluating
            print(
                f"(2) scan of a {mailboxes:,}-mailbox CLIXML bundle with {label}: {total:.2f} s, of which rules "
                f"{rules_time:.3f} s = {rules_time / total:.1%} (target ≤ 5 %)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mailboxes", type=int, default=1_000_000)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--scan-mailboxes", type=int, default=100_000)
    args = parser.parse_args()
    measure_rules(args.mailboxes, args.servers)
    measure_scan_share(args.scan_mailboxes)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
