"""Dates as the exporting machine wrote them: the day/month order decided for a whole file from evidence (its own
values, the same object in an exact export, the manifest, --culture / --date-format), never guessed; other
calendars refused; local time kept as local time and compared by calendar day (issue 17, item 1).

The certificate files here are synthetic (written for these tests in the shape `Get-ExchangeCertificate | fl`
prints); the Australian layout is the one quoted in the issue (`NotAfter : 12/02/2018 1:53:00 PM`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.engine.conditions import Context, evaluate
from analyzer.exchange.bundle import Bundle, Dataset, load_bundle
from analyzer.exchange.dates import (
    DAY_FIRST,
    MONTH_FIRST,
    DateSettings,
    Decision,
    DeferredDate,
    decide,
    order_of_pattern,
    read_local,
    resolve,
    settings_for_culture,
    settings_for_pattern,
    settings_from_manifest,
)

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "mistakes-2016"
THUMBPRINT = "61A0DDD2C0EBDD1FCD55826683F59F8F66A835E0"


def _certificate_list(*dates: tuple[str, str]) -> str:
    """`Get-ExchangeCertificate | Format-List` text, one record per (NotBefore, NotAfter)."""
    records = []
    for number, (not_before, not_after) in enumerate(dates):
        thumbprint = THUMBPRINT if number == 0 else f"{number:040X}"
        records.append(
            f"Thumbprint         : {thumbprint}\r\n"
            "Subject            : CN=ex16a\r\n"
            "CertificateDomains : {ex16a, ex16a.fabrikam.com}\r\n"
            "Services           : IMAP, POP, IIS, SMTP\r\n"
            "Status             : Valid\r\n"
            "HasPrivateKey      : True\r\n"
            f"Identity           : ex16a.fabrikam.com\\{thumbprint}\r\n"
            f"NotBefore          : {not_before}\r\n"
            f"NotAfter           : {not_after}\r\n"
        )
    return "\r\n\r\n" + "\r\n".join(records) + "\r\n\r\n"


def _bundle(tmp_path: Path, text: str, manifest: Mapping[str, object] | None = None) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(SAMPLE, folder)
    (folder / "certificates-EX16A.xml").unlink()
    (folder / "certificates-EX16A.txt").write_text(text, encoding="utf-8")
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _dates(folder: Path, dates: DateSettings | None = None) -> tuple[pd.DataFrame, Bundle, Dataset]:
    bundle = load_bundle([folder], split_large=False, dates=dates)
    certificates = bundle.datasets["exchange_certificate"]
    rows = certificates.frame[certificates.frame["source_format"] == "format-list"]
    return rows, bundle, certificates


def _expired_rule(tmp_path: Path, folder: Path, *options: str) -> dict[str, Any]:
    """POP-CRT-002's result (the certificate POP3 presents has not expired) from `exaudit scan` of the folder."""
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(folder), "--out", str(out), "--as-of", "2026-11-27", *options])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    return next(r for r in report["results"] if r["rule_id"] == "POP-CRT-002")


# -- One value: its numbers, and what it alone proves -------------------------------------------------------------


def test_a_value_proves_its_order_only_when_a_field_is_above_12() -> None:
    assert read_local("25/03/2019 10:00:00").evidence == DAY_FIRST
    assert read_local("03/25/2019 10:00:00 AM").evidence == MONTH_FIRST
    assert read_local("12/02/2018 1:53:00 PM").evidence is None
    assert read_local("05/05/2018 1:53:00 PM").needs_order is False  # both orders give 5 May
    assert read_local("2018/05/06 1:53:00").needs_order is False  # year first: never ambiguous


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.2.2561 13:00:00", "year 2561 is not a Gregorian year"),  # th-TH, Buddhist years
        ("1440/06/12 10:00:00", "Hijri or Persian calendar year"),
        ("12-Feb-2018 13:00:00", "unknown AM/PM designator or a month name"),
        ("soon", "expected a date, got 'soon'"),
        ("31/02/2018 13:00:00", "is not a date: day is out of range"),
        ("12/02/2018 13:53:00 PM", "hour 13 with an AM/PM designator"),
    ],
)
def test_other_calendars_and_non_dates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_local(text).moment(DAY_FIRST)


def test_the_thai_buddhist_calendar_is_converted_when_the_culture_says_so() -> None:
    thai = settings_for_culture("th-TH")
    assert thai.year_offset == 543 and thai.order == DAY_FIRST
    assert read_local("12/2/2561 13:00:00").moment(DAY_FIRST, thai.year_offset) == dt.datetime(2018, 2, 12, 13)


def test_patterns_name_their_order() -> None:
    assert order_of_pattern("dd/MM/yyyy") == DAY_FIRST
    assert order_of_pattern("M/d/yyyy") == MONTH_FIRST
    assert order_of_pattern("yyyy-MM-dd") == "year-first"
    assert order_of_pattern("d' de 'MMMM' de 'yyyy") == DAY_FIRST  # quoted literals skipped (their d and M too)
    with pytest.raises(ValueError, match="needs y, M and d"):
        order_of_pattern("HH:mm")
    with pytest.raises(ValueError, match="unknown culture 'xx-XX'"):
        settings_for_culture("xx-XX")


# -- One file: decided from all its values -------------------------------------------------------------------------


def test_one_value_above_12_decides_every_date_of_the_file() -> None:
    dates = [read_local("12/02/2018 1:53:00 PM"), read_local("25/03/2019 10:00:00 AM")]
    assert decide(dates).order == DAY_FIRST
    dates = [read_local("12/02/2018 1:53:00 PM"), read_local("03/25/2019 10:00:00 AM")]
    assert decide(dates).order == MONTH_FIRST


def test_conflicting_values_in_one_file_are_a_conflict_not_a_choice() -> None:
    decision = decide([read_local("25/03/2019 10:00:00"), read_local("03/25/2019 10:00:00")])
    assert decision.order is None and decision.conflict
    assert (
        "'25/03/2019 10:00:00' is day-first" in decision.basis
        and "'03/25/2019 10:00:00' is month-first" in decision.basis
    )


def test_nothing_decides_then_the_fallback_does_and_else_the_column_is_flagged() -> None:
    dates = [read_local("12/02/2018 1:53:00 PM")]
    assert decide(dates, Decision(DAY_FIRST, "the manifest")).basis == "the manifest"
    undecided = decide(dates)
    assert undecided.order is None and not undecided.conflict
    assert undecided.basis.startswith(
        "ambiguous date order: '12/02/2018 1:53:00 PM' reads as 2018-02-12 day-first and 2018-12-02 month-first"
    )
    assert "--culture NAME or --date-format PATTERN" in undecided.basis


def test_resolution_keeps_local_time_said_so_and_a_utc_named_column_as_utc() -> None:
    deferred = [
        DeferredDate("NotAfter", 0, 7, "x", "25/03/2019 10:00:00"),
        DeferredDate("WhenChangedUTC", 0, 8, "x", "25/03/2019 10:00:00"),
    ]
    resolution = resolve(deferred, "f.txt", None, None)
    assert resolution.values[("NotAfter", 0)] == dt.datetime(2019, 3, 25, 10, tzinfo=dt.UTC)
    assert resolution.values[("WhenChangedUTC", 0)] == dt.datetime(2019, 3, 25, 10, tzinfo=dt.UTC)
    assert list(resolution.local_time) == ["NotAfter"]  # the …UTC column is already UTC
    assert "local time" in resolution.local_time["NotAfter"] and "f.txt:7" in resolution.local_time["NotAfter"]


# -- A bundle: the file, the same object elsewhere, the manifest, the options --------------------------------------


def test_an_ambiguous_file_is_flagged_and_a_rule_reading_it_is_not_evaluated_naming_the_options(
    tmp_path: Path,
) -> None:
    folder = _bundle(tmp_path, _certificate_list(("12/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM")))
    rows, bundle, certificates = _dates(folder)
    assert rows["NotAfter"].isna().all()  # never guessed
    assert "ambiguous date order" in certificates.lossy["NotAfter"]
    assert any("ambiguous date order" in p.message and p.line == 3 for p in bundle.problems)
    expired = _expired_rule(tmp_path, folder)
    assert expired["outcome"] == "not_evaluated"
    assert "ambiguous date order" in expired["reason"] and "--culture" in expired["reason"]


def test_a_culture_option_decides_and_the_rule_says_it_compared_local_time_by_day(tmp_path: Path) -> None:
    folder = _bundle(tmp_path, _certificate_list(("12/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM")))
    rows, _loaded, certificates = _dates(folder, dates=settings_for_culture("en-AU"))
    assert rows["NotAfter"].tolist() == [pd.Timestamp("2018-02-12 13:53", tz="UTC")]  # 12 February, local time
    assert "NotAfter" in certificates.local_time
    expired = _expired_rule(tmp_path, folder, "--culture", "en-AU")
    assert expired["outcome"] == "fail"
    assert "local time" in expired["reason"] and "compared by calendar day" in expired["reason"]


def test_the_report_and_inspect_say_how_each_files_order_was_decided(tmp_path: Path) -> None:
    folder = _bundle(tmp_path, _certificate_list(("12/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM")))
    out = tmp_path / "out"
    scanned = CliRunner().invoke(app, ["scan", str(folder), "--out", str(out), "-f", "json", "--culture", "en-AU"])
    assert scanned.exit_code == 0, scanned.output
    inputs = {Path(i["path"]).name: i for i in json.loads((out / "report.json").read_text())["inputs"]}
    assert inputs["certificates-EX16A.txt"]["date_order"] == "day-first: given by --culture en-AU"
    assert inputs["exchange-servers.xml"]["date_order"] is None  # CLIXML dates carry their moment: no order to decide
    shown = CliRunner().invoke(app, ["inspect", str(folder / "certificates-EX16A.txt"), "--date-format", "d/M/yyyy"])
    assert shown.exit_code == 0, shown.output
    assert "read day-first: given by --date-format d/M/yyyy" in " ".join(shown.output.split())
    own = _bundle(tmp_path / "own", _certificate_list(("13/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM")))
    [entry] = [e for e in load_bundle([own], split_large=False).inputs if e.path.endswith("EX16A.txt")]
    assert entry.date_order == "day-first: '13/02/2017 1:53:00 PM' reads only that way"


def test_the_month_first_reading_of_the_same_text_is_another_day(tmp_path: Path) -> None:
    folder = _bundle(tmp_path, _certificate_list(("12/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM")))
    rows, _b, _d = _dates(folder, dates=settings_for_pattern("M/d/yyyy"))
    assert rows["NotAfter"].tolist() == [pd.Timestamp("2018-12-02 13:53", tz="UTC")]


def test_the_files_own_evidence_comes_before_any_option(tmp_path: Path) -> None:
    text = _certificate_list(
        ("12/02/2017 1:53:00 PM", "12/02/2018 1:53:00 PM"), ("01/01/2018 9:00:00 AM", "25/03/2019 10:00:00 AM")
    )
    rows, _b, _d = _dates(_bundle(tmp_path, text), dates=settings_for_pattern("M/d/yyyy"))
    assert rows["NotAfter"].tolist() == [
        pd.Timestamp("2018-02-12 13:53", tz="UTC"),
        pd.Timestamp("2019-03-25 10:00", tz="UTC"),
    ]


def test_a_conflict_in_one_file_is_a_located_problem(tmp_path: Path) -> None:
    text = _certificate_list(("25/03/2018 1:53:00 PM", "03/25/2019 1:53:00 PM"))
    rows, bundle, certificates = _dates(_bundle(tmp_path, text))
    assert rows["NotAfter"].isna().all()
    assert "disagree" in certificates.lossy["NotAfter"]
    assert any("the file's dates disagree" in p.message for p in bundle.problems)


def test_the_same_certificate_in_an_exact_export_decides_the_order(tmp_path: Path) -> None:
    """A ConvertTo-Json export (exact UTC milliseconds) holds the same thumbprint as the text, whose dates are in
    an undecided layout: only the day-first reading agrees with it (within a day: the text is local time)."""
    text = _certificate_list(("12/07/2017 11:53:00 PM", "12/07/2018 11:53:00 PM"))
    folder = _bundle(tmp_path, text)
    exact = {
        "Thumbprint": THUMBPRINT,
        "Subject": "CN=ex16a",
        "Services": 14,
        "Identity": f"ex16a.fabrikam.com\\{THUMBPRINT}",
        "NotBefore": "/Date(1499867580000)/",  # 2017-07-12T13:53:00Z
        "NotAfter": "/Date(1531403580000)/",  # 2018-07-12T13:53:00Z: 23:53 in Sydney
    }
    (folder / "certificates-exact.json").write_text(json.dumps([exact]), encoding="utf-8")
    bundle = load_bundle([folder], split_large=False)
    assert not [p for p in bundle.problems if "date" in p.message]
    assert "NotAfter" not in bundle.datasets["exchange_certificate"].lossy
    without = load_bundle([folder / "certificates-EX16A.txt"], split_large=False)  # the text alone: undecided
    assert "ambiguous date order" in without.datasets["exchange_certificate"].lossy["NotAfter"]


def test_the_manifest_culture_decides_and_its_time_zone_makes_utc(tmp_path: Path) -> None:
    manifest = {
        "files": [],
        "culture": {
            "name": "en-AU",
            "short_date_pattern": "d/MM/yyyy",
            "long_time_pattern": "h:mm:ss tt",
            "am_designator": "AM",
            "pm_designator": "PM",
            "calendar": "GregorianCalendar",
            "time_zone_id": "AUS Eastern Standard Time",
        },
    }
    folder = _bundle(tmp_path, _certificate_list(("12/02/2017 1:53:00 PM", "12/07/2018 1:53:00 PM")), manifest)
    rows, _b, certificates = _dates(folder, dates=settings_for_pattern("M/d/yyyy"))  # the manifest comes first
    # 12 July 2018 13:53 in Sydney is winter time (UTC+10); 12 February 2017 is summer time (UTC+11).
    assert rows["NotAfter"].tolist() == [pd.Timestamp("2018-07-12 03:53", tz="UTC")]
    assert rows["NotBefore"].tolist() == [pd.Timestamp("2017-02-12 02:53", tz="UTC")]
    assert "NotAfter" not in certificates.local_time


def test_a_manifest_culture_that_cannot_be_used_is_a_problem_of_the_manifest() -> None:
    with pytest.raises(ValueError, match="unknown Windows time-zone id 'Mars Standard Time'"):
        settings_from_manifest({"culture": {"time_zone_id": "Mars Standard Time"}})
    with pytest.raises(ValueError, match="HijriCalendar is not one exaudit converts"):
        settings_from_manifest({"culture": {"short_date_pattern": "dd/MM/yy", "calendar": "HijriCalendar"}})
    with pytest.raises(ValueError, match="'culture' is not an object"):
        settings_from_manifest({"culture": "en-AU"})
    assert settings_from_manifest({"files": []}) is None


def test_dates_options_are_checked_as_usage(tmp_path: Path) -> None:
    runner = CliRunner()
    out = ["--out", str(tmp_path / "out")]
    both = runner.invoke(app, ["scan", "--demo", *out, "--culture", "en-GB", "--date-format", "dd/MM/yyyy"])
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(app, ["scan", "--demo", *out, "--culture", "xx-XX"])
    assert unknown.exit_code == 2 and "unknown culture" in unknown.output


# -- Comparing a local time: by calendar day --------------------------------------------------------------------


def test_a_local_time_column_is_compared_by_day_and_an_exact_one_by_the_moment() -> None:
    frame = pd.DataFrame({"NotAfter": pd.to_datetime(["2026-11-27 06:00"], utc=True)})
    as_of = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    expired = {"column": "NotAfter", "within_days": 0}
    assert evaluate(expired, frame, Context(as_of=as_of)).tolist() == [True]  # six hours ago
    assert evaluate(expired, frame, Context(as_of=as_of, by_day={"NotAfter"})).tolist() == [False]  # same day
    next_day = dt.datetime(2026, 11, 28, 0, 30, tzinfo=dt.UTC)
    assert evaluate(expired, frame, Context(as_of=next_day, by_day={"NotAfter"})).tolist() == [True]


def test_an_exact_date_agrees_with_one_order_only_within_a_day() -> None:
    from analyzer.exchange.dates import order_from_known

    exact = dt.datetime(2018, 7, 12, 13, 53, tzinfo=dt.UTC)
    decided = order_from_known([(read_local("12/07/2018 11:53:00 PM"), exact)])
    assert decided is not None and decided.order == DAY_FIRST
    decided = order_from_known([(read_local("07/12/2018 11:53:00 PM"), exact)])
    assert decided is not None and decided.order == MONTH_FIRST
    assert order_from_known([(read_local("12/07/2018 11:53:00 PM"), exact + dt.timedelta(days=3))]) is None
    assert order_from_known([(read_local("07/07/2018 11:53:00 PM"), exact)]) is None  # needs no order
