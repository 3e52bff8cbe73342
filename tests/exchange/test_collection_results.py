"""What the collection script records per cmdlet and server (manifest `results`, issue 18) and what the analyzer
makes of it: a failure is never a pass, an empty answer is a dataset with no rows, a partial one is incomplete, a
cmdlet the Exchange version lacks is a reason, files for later rule packs are kept but not parsed, an Edge
server's own bundle merges with the organisation's, and Win32_Service completes a Get-Service without StartType.
Bundles are the healthy-2019 sample with a manifest shaped as the script writes it (synthetic.collection)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzer.exchange.bundle import FOR_LATER, load_bundle
from analyzer.pipeline import Scan, ScanOptions, scan
from analyzer.synthetic import collection as collected
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.samples import clixml_bytes

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "healthy-2019"
AS_OF = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
EMPTY_EXPORT = (  # what `@() | Export-Clixml` writes: the header and no object
    '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\r\n</Objs>'
)


def _bundle(tmp_path: Path, *extra: dict[str, Any], drop: tuple[str, ...] = ()) -> Path:
    """healthy-2019 with every file recorded ok, `extra` results added and the `drop`ped files removed."""
    folder = tmp_path / "bundle"
    shutil.copytree(SAMPLE, folder)
    (folder / "manifest.json").unlink()
    for path in drop:
        (folder / path).unlink()
    results = [
        collected.result(p.relative_to(folder).as_posix(), p.stem, p.parent.name if p.parent != folder else "")
        for p in sorted(folder.rglob("*.xml"))
    ]
    overridden = {r["path"] for r in extra}
    results = [r for r in results if r["path"] not in overridden] + list(extra)
    manifest = collected.manifest(folder, results)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def _scan(*paths: Path) -> Scan:
    return scan(ScanOptions(list(paths), as_of=AS_OF))


def _outcome(result: Scan, rule_id: str) -> tuple[str, str | None]:
    [found] = [r for r in result.results if r.rule_id == rule_id]
    return found.outcome, found.reason


def test_the_sample_recorded_all_ok_is_ready(tmp_path: Path) -> None:
    result = _scan(_bundle(tmp_path))
    assert {p: v["status"] for p, v in result.verdicts.items()} == {"pop3": "ready", "imap4": "ready"}


def test_a_failed_cmdlet_is_never_a_pass_and_the_rules_name_its_error(tmp_path: Path) -> None:
    error = "The operation couldn't be performed because object 'EXCH02' couldn't be found on 'dc01.contoso.com'."
    failed = collected.result("EXCH02/Get-PopSettings.xml", "Get-PopSettings", "EXCH02", "failed", errors=(error,))
    result = _scan(_bundle(tmp_path, failed, drop=("EXCH02/Get-PopSettings.xml",)))
    assert result.verdicts["pop3"]["status"] == "unknown"
    degraded = " ".join(result.verdicts["pop3"]["degraded_inputs"])
    assert "Get-PopSettings for EXCH02 failed when it was collected" in degraded and "couldn't be found" in degraded
    # The server's own check says why it has no settings; a rule over the others' says why it cannot pass.
    [settings] = [r for r in result.results if r.rule_id == "POP-SET-001"]
    [missing] = [f for f in settings.findings if f.server == "EXCH02"]
    assert missing.outcome == "not_evaluated" and "Get-PopSettings for EXCH02 failed" in (missing.message or "")
    outcome, reason = _outcome(result, "POP-SEC-001")
    assert outcome == "not_evaluated" and reason is not None and "couldn't be found" in reason


def test_a_cmdlet_failed_everywhere_makes_its_rules_not_evaluated_with_the_error(tmp_path: Path) -> None:
    results = [
        collected.result(
            f"{s}/Get-ServerComponentState.xml", "Get-ServerComponentState", s, "failed", errors=("Access is denied.",)
        )
        for s in ("EXCH01", "EXCH02")
    ]
    drop = ("EXCH01/Get-ServerComponentState.xml", "EXCH02/Get-ServerComponentState.xml")
    outcome, reason = _outcome(_scan(_bundle(tmp_path, *results, drop=drop)), "POP-CMP-001")
    assert outcome == "not_evaluated"
    assert reason == (
        "no server_component_state data in the bundle: Get-ServerComponentState for EXCH01 failed when it was "
        "collected: Access is denied."
    )


def test_an_empty_answer_is_a_dataset_with_no_rows(tmp_path: Path) -> None:
    """An organisation without mailboxes: the user rule has no one to judge instead of asking for the export."""
    folder = _bundle(tmp_path, collected.result("Get-CASMailbox.xml", "Get-CASMailbox", "", "empty"))
    (folder / "Get-CASMailbox.xml").write_text(EMPTY_EXPORT, encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(collected.manifest(folder, manifest["results"])))
    bundle = load_bundle([folder], split_large=False)
    assert len(bundle.datasets["cas_mailbox"].frame) == 0
    [entry] = [i for i in bundle.inputs if i.path.endswith("Get-CASMailbox.xml")]
    assert entry.problems == [] and entry.datasets == ["cas_mailbox"]
    assert _outcome(_scan(folder), "POP-USR-001")[0] == "pass"
    # Without the script's word, a file with no objects proves nothing: the rule asks for the export.
    (folder / "manifest.json").unlink()
    outcome, reason = _outcome(_scan(folder), "POP-USR-001")
    assert outcome == "not_evaluated" and reason is not None and "export it with Get-CASMailbox" in reason


def test_a_partial_answer_is_read_and_leaves_its_dataset_incomplete(tmp_path: Path) -> None:
    partial = collected.result("Get-CASMailbox.xml", "Get-CASMailbox", "", "partial", objects=40,
                               errors=("The object 'contoso.com/Users/x' is corrupted.",) * 7)  # fmt: skip
    folder = _bundle(tmp_path, partial)
    bundle = load_bundle([folder], split_large=False)
    assert "Get-CASMailbox.xml" in " ".join(bundle.datasets["cas_mailbox"].untrusted_sources)
    [entry] = [i for i in bundle.inputs if i.path.endswith("Get-CASMailbox.xml")]
    assert not entry.complete
    assert any("recorded 7 error(s) for Get-CASMailbox" in p.message for p in entry.problems)
    result = _scan(folder)
    assert result.verdicts["pop3"]["status"] != "ready"


def test_a_cmdlet_this_exchange_lacks_is_a_reason_not_a_problem(tmp_path: Path) -> None:
    lacking = "Get-ServerComponentState does not exist in this shell (Exchange version, role or agents not installed)"
    results = [
        collected.result(
            f"{s}/Get-ServerComponentState.xml", "Get-ServerComponentState", s, "unavailable", errors=(lacking,)
        )
        for s in ("EXCH01", "EXCH02")
    ]
    drop = ("EXCH01/Get-ServerComponentState.xml", "EXCH02/Get-ServerComponentState.xml")
    result = _scan(_bundle(tmp_path, *results, drop=drop))
    outcome, reason = _outcome(result, "POP-CMP-001")
    assert outcome == "not_evaluated"
    assert reason == (
        f"no server_component_state data in the bundle: Get-ServerComponentState for EXCH01 was not collected: {lacking}"
    )
    assert not any("ComponentState" in p.message for p in result.bundle.problems)
    assert result.verdicts["pop3"]["degraded_inputs"] == []  # a reason, not damage


def test_files_for_later_rule_packs_are_kept_unparsed_unless_their_content_is_an_export_we_read(
    tmp_path: Path,
) -> None:
    remote = collected.result("Get-HybridConfiguration.xml", "Get-HybridConfiguration", "", objects=1)
    folder = tmp_path / "a"
    folder.mkdir()
    group: ex.ExchangeObject = (("Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.HybridConfiguration",),
             {"Name": "Hybrid Configuration", "Features": "FreeBusy"}, {})  # fmt: skip
    _with_file(_bundle(folder), "Get-HybridConfiguration.xml", clixml_bytes([group]), remote)
    bundle = load_bundle([folder / "bundle"], split_large=False)
    [entry] = [i for i in bundle.inputs if i.path.endswith("Get-HybridConfiguration.xml")]
    assert (entry.format, entry.records, entry.problems) == (FOR_LATER, 0, [])
    assert len(entry.sha256) == 64
    # A manifest that calls POP3 settings something else does not hide them: the content decides.
    lying = tmp_path / "b"
    lying.mkdir()
    pop = clixml_bytes([ex.protocol_settings("pop", "EXCH03", "contoso.com")])
    _with_file(_bundle(lying), "Get-HybridConfiguration.xml", pop, remote)
    bundle = load_bundle([lying / "bundle"], split_large=False)
    assert "EXCH03" in set(bundle.datasets["pop_settings"].frame["server_name"])


def _with_file(folder: Path, name: str, content: bytes, entry: dict[str, Any]) -> None:
    (folder / name).write_bytes(content)
    manifest = json.loads((folder / "manifest.json").read_text())
    results = [*manifest["results"], entry]
    (folder / "manifest.json").write_text(json.dumps(collected.manifest(folder, results)))


def test_an_edge_servers_own_bundle_merges_with_the_organisations(tmp_path: Path) -> None:
    """Both bundles have a Get-ExchangeServer.xml and a manifest at their top: each manifest speaks for its own
    files (no false 'changed since export'), and the Edge server's certificate is attributed to it."""
    organisation = _bundle(tmp_path / "org")
    edge = tmp_path / "edge"
    (edge / "EDGE01").mkdir(parents=True)
    edge_server = ex.exchange_server("EDGE01", "contoso.com", "2019", edge=True)
    (edge / "Get-ExchangeServer.xml").write_bytes(clixml_bytes([edge_server]))
    der = ex.self_signed_der("edge01", ["edge01.contoso.com"], not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    certificate = ex.exchange_certificate("EDGE01", "contoso.com", der, services="SMTP")
    (edge / "EDGE01" / "Get-ExchangeCertificate.xml").write_bytes(clixml_bytes([certificate]))
    results = [
        collected.result("Get-ExchangeServer.xml", "Get-ExchangeServer", objects=1),
        collected.result("EDGE01/Get-ExchangeCertificate.xml", "Get-ExchangeCertificate", "EDGE01", objects=1),
    ]
    (edge / "manifest.json").write_text(json.dumps(collected.manifest(edge, results)))
    bundle = load_bundle([organisation, edge], split_large=False)
    assert not [p for p in bundle.problems if "differs from the manifest" in p.message or "listed" in p.message]
    assert set(bundle.servers["server_key"]) == {"EXCH01", "EXCH02", "EDGE01"}
    certificates = bundle.datasets["exchange_certificate"].frame
    assert "EDGE01" in set(certificates["server_key"])


def test_win32_service_completes_a_get_service_without_start_type(tmp_path: Path) -> None:
    """Exchange 2010's servers (.NET before 4.6.1) give Get-Service without StartType; the script's
    Win32_Service export of the same services has StartMode, and the two merge into one row each."""
    folder = _bundle(tmp_path)
    services = [("MSExchangePop3", "Running", "Auto"), ("MSExchangePOP3BE", "Running", "Auto"),
                ("MSExchangeImap4", "Stopped", "Manual"), ("MSExchangeIMAP4BE", "Stopped", "Manual")]  # fmt: skip
    plain = [ex.service(n, n, "Running" if state == "Running" else "Stopped", None, ran_on="exch01.contoso.com")
             for n, state, _mode in services]  # fmt: skip
    (folder / "EXCH01" / "Get-Service.xml").write_bytes(clixml_bytes(collected.tagged(plain, "service")))
    wmi = [collected.wmi_service(n, state, mode, "EXCH01") for n, state, mode in services]
    (folder / "EXCH01" / "Win32_Service.xml").write_bytes(clixml_bytes(wmi))
    manifest = json.loads((folder / "manifest.json").read_text())
    results = [*manifest["results"], collected.result("EXCH01/Win32_Service.xml", "Get-WmiObject Win32_Service",
                                                      "EXCH01", objects=4)]  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(collected.manifest(folder, results)))
    bundle = load_bundle([folder], split_large=False)
    frame = bundle.datasets["service"].frame
    ours = frame[frame["server_key"].eq("EXCH01").fillna(False) & frame["Name"].isin([n for n, _s, _m in services])]
    rows = dict(zip(ours["Name"], ours["StartType"], strict=True))
    assert rows["MSExchangePop3"] == "Automatic" and rows["MSExchangeIMAP4BE"] == "Manual"
    assert len(ours) == len(rows)  # one row per service, not one per export
    assert not [p for p in bundle.problems if "different" in p.message]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"cmdlet": "Get-PopSettings", "status": "done"}, "'status' 'done' is not one of ok, empty"),
        ({"cmdlet": "", "status": "ok"}, "expected a 'cmdlet' name"),
        ({"cmdlet": "Get-User", "status": "ok", "objects": -1}, "'objects' -1 is not a count"),
        ({"cmdlet": "Get-User", "status": "failed", "errors": "denied"}, "'errors' is not a list of messages"),
        ("Get-User", "expected an object"),
    ],
)
def test_a_malformed_result_is_a_located_problem_and_not_used(tmp_path: Path, entry: Any, message: str) -> None:
    folder = _bundle(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["results"].append(entry)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    problems = [p.message for p in load_bundle([folder], split_large=False).problems]
    number = len(manifest["results"]) - 1
    assert any(m.startswith(f"results[{number}]: {message}") and m.endswith("not used") for m in problems), problems
