"""Patch currency against the dated Exchange build catalogue: real servers' builds (HealthChecker's lab exports of
Exchange 2016 CU22 and 2019 CU11, with ExSetup.exe's version) judged at fixed dates; a build the catalogue does not
know is never a pass or a fail; a newer catalogue given with --builds; an old one said to be old."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.baselines.builds import exposed, from_file, packaged, parse_build, read_catalogue
from analyzer.cli import app
from analyzer.errors import InputError

REAL = Path(__file__).parents[1] / "data" / "real" / "microsoft__CSS-Exchange"
LAB = "Diagnostics__HealthChecker__Tests__DataCollection__{}__Exchange__{}.xml"


def test_the_catalogue_places_real_builds() -> None:
    catalogue = packaged()
    assert catalogue.date == dt.date(2026, 2, 1)  # its newest update: February 2026
    late = dt.date(2026, 11, 27)
    cu22, cu11 = parse_build("15.01.2375.007"), parse_build("Version 15.2 (Build 986.5)")
    assert cu22 is not None and cu11 is not None
    assert (catalogue.cu_of(cu22).cu, catalogue.cu_of(cu11).cu) == ("CU22", "CU11")  # type: ignore[union-attr]
    assert (catalogue.serviced(cu22, late), catalogue.is_newest(cu22, late)) == (False, False)
    # When it was the newest CU, before its first security update (October 2021): current.
    early = dt.date(2021, 9, 30)
    assert (catalogue.serviced(cu22, early), catalogue.is_newest(cu22, early)) == (True, True)
    assert (catalogue.serviced(cu11, early), catalogue.is_newest(cu11, early)) == (True, True)
    unknown = parse_build("15.1.2507.18")  # a build between two updates the dictionary lists: not in it
    assert unknown is not None and catalogue.is_newest(unknown, late) is None and catalogue.serviced(unknown, late)
    assert catalogue.stale_at(late) == 272 and catalogue.stale_at(dt.date(2026, 4, 30)) is None
    # ProxyLogon's fix (Mar21SU): CU22 came out after it; Exchange 2010 is not in the catalogue, so unknown.
    assert exposed(catalogue, cu22, "Mar21SU") is False and exposed(catalogue, cu22, "Nov21SU") is True
    exchange_2010 = parse_build("Version 14.3 (Build 123.4)")
    assert exchange_2010 is not None and exposed(catalogue, exchange_2010, "Mar21SU") is None


def test_a_damaged_catalogue_is_a_located_error() -> None:
    with pytest.raises(InputError, match=r"builds\.csv:3: expected a product"):
        read_catalogue("product,cu,update,build\nExchange2019,CU15,,15.2.1748.10\nExchange2019,CU15,Soon,15.2.1748.x\n",
                       "builds.csv")  # fmt: skip
    with pytest.raises(InputError, match="header"):
        read_catalogue("a,b\n1,2\n", "builds.csv")


def test_an_oversized_catalogue_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "builds.csv"
    with huge.open("wb") as sink:
        sink.truncate(17 << 20)  # sparse: nothing is written
    with pytest.raises(InputError, match="larger than 16 MB"):
        from_file(huge)


def _lab_bundle(folder: Path) -> Path:
    """Two real lab servers as the collection script lays them out: ExSetup in each server's folder."""
    for lab, server in (("E16", "SOLO-E16A"), ("E19", "SOLO-E19A")):
        shutil.copy(REAL / LAB.format(lab, "GetExchangeServer"), folder / f"{lab}-Get-ExchangeServer.xml")
        (folder / server).mkdir(parents=True)
        shutil.copy(REAL / LAB.format(lab, "ExSetup"), folder / server / "ExSetup.xml")
    # Two Exchange 2016 CU23 servers of another lab, without ExSetup's version.
    shutil.copy(
        REAL / "Admin__MonitorExchangeAuthCertificate__DataCollection__Tests__Data__GetExchangeServer.xml", folder
    )
    return folder


def _scan(tmp_path: Path, as_of: str, *extra: str) -> dict[str, Any]:
    bundle = tmp_path / "bundle"
    if not bundle.exists():
        bundle.mkdir()
        _lab_bundle(bundle)
    out = tmp_path / f"out-{as_of}-{len(extra)}"
    result = CliRunner().invoke(app, ["scan", str(bundle), "--pack", "patch-currency", "--as-of", as_of, "-f", "json",
                                      "--out", str(out), "--quiet", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def _servers(report: dict[str, Any], prefix: str = "PC-") -> dict[str, dict[str, str]]:
    return {r["rule_id"]: r["servers"] for r in report["results"] if r["rule_id"].startswith(prefix)}


def test_real_lab_servers_at_two_dates(tmp_path: Path) -> None:
    late = _scan(tmp_path, "2026-11-27")
    both = {"SOLO-E16A": "fail", "SOLO-E19A": "fail"}
    cu23 = {"E2K16-1": "pass", "E2K16-2": "pass"}  # CU23 got Exchange 2016's latest update (February 2026)
    unread = {"E2K16-1": "not_evaluated", "E2K16-2": "not_evaluated"}  # their ExSetup version was not exported
    assert _servers(late, "PC-CU") | _servers(late, "PC-SU") == {"PC-CU-001": both | cu23, "PC-SU-001": both | unread}
    # Known exploited: 2016 CU22 and 2019 CU11 at their first builds lack November 2021's fix (CVE-2021-42321) and
    # ProxyNotShell's; they came out after the earlier fixes, so they carry those.
    kev = _servers(late, "PC-KEV")
    assert {rule for rule, servers in kev.items() if servers == both | unread} == {"PC-KEV-2021-11", "PC-KEV-2022-11"}
    assert all(servers == {"SOLO-E16A": "pass", "SOLO-E19A": "pass"} | unread for rule, servers in kev.items()
               if rule not in ("PC-KEV-2021-11", "PC-KEV-2022-11"))  # fmt: skip
    finding = next(f for r in late["results"] if r["rule_id"] == "PC-KEV-2022-11" for f in r["findings"])
    assert "CVE-2022-41040, CVE-2022-41082, CVE-2022-41080" in finding["message"]
    # A server exposed to a known exploited vulnerability is no safe place for POP3 and IMAP4.
    safety = late["verdicts"]["pop3"]["safety"]
    assert safety["status"] == "at_risk" and any("CVE-2021-42321" in reason for reason in safety["reasons"])
    assert late["build_catalogue"] == {"source": "exaudit:exchange-builds.csv", "month": "2026-02", "stale_days": 272}
    assert any("more than 90 days before the evaluation date" in p["message"] for p in late["problems"])
    early = _scan(tmp_path, "2021-09-30")
    assert _servers(early, "PC-CU") | _servers(early, "PC-SU") == {
        "PC-CU-001": {"SOLO-E16A": "pass", "SOLO-E19A": "pass"} | cu23,  # CU23 is newer than 2021's latest update
        "PC-SU-001": {"SOLO-E16A": "pass", "SOLO-E19A": "pass"} | unread,
    }
    assert not any("build catalogue" in p["message"] for p in early["problems"])


def test_the_html_report_names_the_catalogue_and_its_age(tmp_path: Path) -> None:
    _scan(tmp_path, "2026-11-27", "-f", "json,html")
    html = (tmp_path / "out-2026-11-27-2" / "report.html").read_text(encoding="utf-8")
    assert "Exchange build catalogue</th><td>exaudit:exchange-builds.csv, 2026-02 — its month ended 272 days" in html


def test_a_newer_catalogue_given_with_builds(tmp_path: Path) -> None:
    newer = tmp_path / "builds.csv"
    rows = (Path(__file__).parents[2] / "analyzer" / "baselines" / "exchange-builds.csv").read_text(encoding="utf-8")
    newer.write_text(rows + "Exchange2016,CU22,Dec26SU,15.1.2375.99\n", encoding="utf-8")
    report = _scan(tmp_path, "2026-12-31", "--builds", str(newer))
    assert report["build_catalogue"] == {"source": str(newer), "month": "2026-12", "stale_days": None}
    # CU22 got the newest security update in this (made-up) catalogue: serviced again, and 2375.7 is behind it.
    assert _servers(report)["PC-CU-001"] == {"SOLO-E16A": "pass", "SOLO-E19A": "fail", "E2K16-1": "pass",
                                             "E2K16-2": "pass"}  # CU23 is newer than CU22, the one CU that got it  # fmt: skip
    assert _servers(report)["PC-SU-001"]["SOLO-E16A"] == "fail"
