"""The POP3/IMAP4 pack end to end: verdicts on the sample bundles and on the real Exchange 2016 and 2019 exports."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzer.pipeline import ScanOptions, scan
from tests.conftest import CSS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
AS_OF = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def _scan(*paths: Path, **params: str) -> Any:
    return scan(ScanOptions(list(paths), params=dict(params), as_of=AS_OF))


def _status(result: Any) -> dict[str, str]:
    return {protocol: verdict["status"] for protocol, verdict in result.verdicts.items()}


def test_healthy_sample_is_ready_and_exposed_when_meant_to_be_off() -> None:
    assert _status(_scan(SAMPLES / "healthy-2019")) == {"pop3": "ready", "imap4": "ready"}
    off = _scan(SAMPLES / "healthy-2019", pop3_intended="disabled", imap4_intended="disabled")
    assert _status(off) == {"pop3": "exposed", "imap4": "exposed"}


def test_mistakes_sample_is_not_ready_and_says_which_server() -> None:
    result = _scan(SAMPLES / "mistakes-2016")
    assert _status(result) == {"pop3": "not_ready", "imap4": "not_ready"}
    pop3 = result.verdicts["pop3"]
    assert pop3["servers"] == {"EX16A": "not_ready", "EX16B": "unknown"}  # EX16B's POP settings were not exported
    outcomes = {r.rule_id: r for r in result.results}
    assert outcomes["POP-SET-001"].outcome == "fail"
    users = [f.object for f in outcomes["POP-USR-001"].findings]
    assert users == ["user000007@contoso.com", "user000011@contoso.com"]  # the shared mailbox 0 is out of scope


def test_mixed_formats_sample_is_partial_for_pop3() -> None:
    result = _scan(SAMPLES / "mixed-formats")
    assert _status(result) == {"pop3": "partial", "imap4": "not_ready"}
    assert "1 of 12 mailboxes" in result.verdicts["pop3"]["summary"]


@pytest.mark.parametrize("version", ["E16", "E19"])
def test_real_exports_are_not_ready_and_name_the_services(tmp_path: Path, version: str) -> None:
    prefix = f"Diagnostics__HealthChecker__Tests__DataCollection__{version}__"
    for name in ("Exchange__GetExchangeServer", "OS__GetService", "Exchange__GetServerComponentState"):
        shutil.copy(CSS / f"{prefix}{name}.xml", tmp_path)
    result = _scan(tmp_path)
    assert _status(result) == {"pop3": "not_ready", "imap4": "not_ready"}
    messages = " ".join(f.message for r in result.results for f in r.findings)
    for service in ("MSExchangePop3", "MSExchangePOP3BE", "MSExchangeImap4", "MSExchangeIMAP4BE"):
        assert f"Name={service}, Status=Stopped, StartType=Manual" in messages
    off = _scan(tmp_path, pop3_intended="disabled", imap4_intended="disabled")
    assert _status(off) == {"pop3": "disabled", "imap4": "disabled"}


def test_a_damaged_input_never_yields_ready(tmp_path: Path) -> None:
    bundle = tmp_path / "healthy"
    shutil.copytree(SAMPLES / "healthy-2019", bundle)
    services = bundle / "EXCH02" / "Get-Service.xml"
    content = services.read_bytes()
    services.write_bytes(content[: int(len(content) * 0.9)])  # cut off: the last records are missing
    result = _scan(bundle)
    assert "ready" not in _status(result).values()
    outcomes = {r.rule_id: r.outcome for r in result.results}
    assert outcomes["POP-SVC-001"] == "not_evaluated"  # EXCH02's records were cut off: not judged, never passed
    assert any("records before it kept" in p.message for p in result.bundle.problems)
