"""CLIXML reader throughput and memory, against a bare lxml scan and psrpcore, measured in one run.

    python benchmarks/clixml_throughput.py [--objects 20000] [--large 100000] [--skip-oracle]

Writes a synthetic Get-CASMailbox export (remote-session flavour, ~4 KB an object) and measures, each in a
fresh process so that peak RSS belongs to that measurement alone:
  (a) a bare lxml iterparse that only counts and clears the top-level objects — the practical limit;
  (b) exaudit's reader, all properties;   (c) the reader projected to 10 properties;
  (d) psrpcore's deserialize_clixml (an independent, pure-Python implementation);
and (b) again on --large objects, for the memory-growth target.
Targets: b ≥ 0.35·a, c ≥ 0.6·a, b ≥ 15·d, peak RSS of b at --large ≤ 1.5 × at --objects.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECTION = [
    "Name",
    "Guid",
    "DistinguishedName",
    "Identity",
    "PrimarySmtpAddress",
    "PopEnabled",
    "ImapEnabled",
    "ServerName",
    "PopUseProtocolDefaults",
    "ImapUseProtocolDefaults",
]


def write_export(path: Path, objects: int) -> None:
    from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
    from analyzer.synthetic.clixml_writer import ClixmlWriter

    with path.open("w", encoding="utf-8", newline="\r\n") as out:
        writer = ClixmlWriter(out, deserialized=True)
        for index in range(objects):
            props, extended = cas_mailbox(index)
            writer.write_object(TYPE_NAMES, props, to_string=props["Name"], extended=extended)
        writer.close()


def _bare_lxml(path: Path) -> int:
    from lxml import etree

    count = 0
    context = etree.iterparse(str(path), events=("end",), tag="{*}Obj", resolve_entities=False, no_network=True)
    for _event, element in context:
        parent = element.getparent()
        if parent is not None and parent.getparent() is None:
            count += 1
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del parent[0]
    return count


def _reader(path: Path, projected: bool) -> int:
    from analyzer.readers.clixml import read_clixml

    count = 0
    for _record in read_clixml(path, properties=PROJECTION if projected else None):
        count += 1
    return count


def _psrpcore(path: Path) -> int:
    import psrpcore.types as T

    text = path.read_bytes().decode("utf-8-sig")
    return len(T.deserialize_clixml(text, T.PSCryptoProvider()))


def _peak_rss_mib() -> float:
    """This process's own peak RSS. Linux carries ru_maxrss across exec (a child would report its parent's
    peak), while VmHWM belongs to the address space and starts afresh with the program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: Path) -> dict[str, Any]:
    """Run one measurement in this process and report it; imports happen before the clock starts."""
    import lxml.etree  # noqa: F401

    if kind in ("b", "c"):
        import analyzer.readers.clixml  # noqa: F401
    if kind == "d":
        import psrpcore.types  # noqa: F401
    run = {
        "a": _bare_lxml,
        "b": lambda p: _reader(p, False),
        "c": lambda p: _reader(p, True),
        "d": _psrpcore,
    }[kind]
    start = time.perf_counter()
    records = run(path)
    seconds = time.perf_counter() - start
    return {"kind": kind, "records": records, "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}


def _in_child(kind: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--skip-oracle", action="store_true", help="leave out (d), psrpcore")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return

    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / "cas_small.xml", Path(folder) / "cas_large.xml"
        write_export(small, args.objects)
        size_mb = small.stat().st_size / 1e6
        print(f"file: {args.objects} objects, {size_mb:.1f} MB, {small.stat().st_size / args.objects:.0f} B/object")
        kinds = ["a", "b", "c"] + ([] if args.skip_oracle else ["d"])
        results = {kind: _in_child(kind, small) for kind in kinds}
        for kind, label in [
            ("a", "bare lxml scan"),
            ("b", "reader, all properties"),
            ("c", "reader, 10 properties"),
            ("d", "psrpcore"),
        ]:
            if kind in results:
                r = results[kind]
                print(
                    f"({kind}) {label:24s} {r['seconds']:7.2f} s  {size_mb / r['seconds']:7.1f} MB/s  "
                    f"peak RSS {r['peak_rss_mib']:7.1f} MiB  records {r['records']}"
                )
        rate = {k: size_mb / v["seconds"] for k, v in results.items()}
        print(f"b/a = {rate['b'] / rate['a']:.2f} (target ≥ 0.35)")
        print(f"c/a = {rate['c'] / rate['a']:.2f} (target ≥ 0.60)")
        if "d" in rate:
            print(f"b/d = {rate['b'] / rate['d']:.1f} (target ≥ 15)")
        write_export(large, args.large)
        big = _in_child("b", large)
        growth = big["peak_rss_mib"] / results["b"]["peak_rss_mib"]
        print(
            f"(b) at {args.large} objects ({large.stat().st_size / 1e6:.0f} MB): {big['seconds']:.2f} s, "
            f"peak RSS {big['peak_rss_mib']:.1f} MiB; growth vs {args.objects}: {growth:.2f}× (target ≤ 1.5)"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
