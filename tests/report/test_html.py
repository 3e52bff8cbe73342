"""report.html without a browser: self-contained, locked down by its CSP, escaped, and light on large results."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from analyzer.pipeline import ScanOptions, packaged_demo, scan
from analyzer.report import html_report
from analyzer.report.json_report import build
from tests.conftest import CSS

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build(scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))


def _page(report: dict[str, Any]) -> tuple[str, Any]:
    text = html_report.render(report)["report.html"].decode("utf-8")
    return text, lxml_html.document_fromstring(text)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def test_the_page_loads_nothing_from_anywhere(report: dict[str, Any]) -> None:
    _text, page = _page(report)
    assert not page.xpath("//link | //iframe | //object | //embed | //img | //base")
    for element in page.iter():
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = element.get(name)
            assert value is None or value.startswith(("#", "data:")), (element.tag, name, value)
    (policy,) = page.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    (style,) = page.xpath("//style/text()")
    (script,) = page.xpath("//script/text()")
    assert f"style-src {_sha256(style)}" in policy and f"script-src {_sha256(script)}" in policy


def test_values_from_exports_are_text_never_markup(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    result = next(r for r in hostile["results"] if r["outcome"] == "fail")
    finding = next(f for f in result["findings"] if f["outcome"] == "fail")
    finding.update(object=SCRIPT, message=f'"><img src=x onerror=alert(2)>{SCRIPT}', remediation=f"Set-X '{SCRIPT}'")
    text, page = _page(hostile)
    assert SCRIPT not in text and "<img src=x" not in text
    assert len(page.xpath("//script")) == 1  # ours
    assert SCRIPT in page.text_content()  # shown to the reader as written
    (button,) = page.xpath(f"//button[@data-command=\"Set-X '{SCRIPT}'\"]")
    assert button.text == "Copy"


def test_verdicts_come_first_and_every_section_is_there(report: dict[str, Any]) -> None:
    _text, page = _page(report)
    sections = page.xpath("//body/main/section/@id")  # in the main landmark, after the header
    assert sections == ["verdicts", "summary", "findings", "not-evaluated", "inventory", "coverage", "inputs", "run"]
    cards = page.xpath("//section[@id='verdicts']/article/h2")
    assert [card.text_content().split()[0] for card in cards] == ["IMAP4", "POP3"]
    assert "NOT_READY" not in page.text_content() and "not ready" in cards[0].text_content()
    not_evaluated = page.xpath("//section[@id='not-evaluated']//li")
    assert len(not_evaluated) == sum(r["outcome"] == "not_evaluated" for r in report["results"])
    missing = page.xpath("//table[@class='coverage']//td[@class='missing']")
    assert missing and all("missing — Get-" in cell.text_content() for cell in missing)
    for item in report["inputs"]:
        assert item["sha256"] in page.text_content()
    (ex16a,) = page.xpath("//section[@id='inventory']//tr[td[1]='EX16A']")
    assert "MSExchangePop3: Stopped, Manual" in ex16a.text_content()  # the services the verdict turns on


def test_a_rule_with_many_findings_shows_the_first_200_and_stays_small(report: dict[str, Any]) -> None:
    large = copy.deepcopy(report)
    result = next(r for r in large["results"] if r["rule_id"] == "POP-USR-001")
    template = result["findings"][0]
    result["findings"] = [
        dict(template, object=f"user{i:06d}@contoso.com", fingerprint=f"{i:020d}") for i in range(100_000)
    ]
    text, page = _page(large)
    rows = page.xpath("//article[@id='rule-POP-USR-001']//tr[@class='finding']")
    assert len(rows) == html_report.ROWS_PER_RULE
    assert "Showing 200 of 100,000 findings; findings.csv lists all 100,000." in page.text_content()
    assert len(text.encode("utf-8")) < 10_000_000


def test_japanese_report_uses_japanese_labels_titles_and_messages(report: dict[str, Any]) -> None:
    from analyzer.report.labels import LABELS

    for key, english in LABELS["en"].items():  # every label exists in both languages, nested ones too
        japanese = LABELS["ja"][key]
        assert type(japanese) is type(english) and (not isinstance(english, dict) or set(english) == set(japanese))
    text = html_report.render(report, "ja")["report.html"].decode("utf-8")
    page: Any = lxml_html.document_fromstring(text)
    assert page.get("lang") == "ja"
    assert page.xpath("//h1")[0].text == "Exchange POP3/IMAP4 監査レポート"
    assert "2026年11月27日 00:00 UTC" in page.text_content()
    (badge,) = page.xpath(
        "//section[@id='verdicts']/article[h2[starts-with(., 'POP3')]]//span[contains(@class,'badge') and contains(@class,'status-')]"
    )
    assert badge.text == "準備状況: 未準備"
    heading = page.xpath("//article[@id='rule-POP-USR-001']/h3")[0].text_content()
    assert "対象ユーザーの POP3 が有効になっている" in heading and "不合格" in heading
    messages = page.xpath("//article[@id='rule-POP-USR-001']//div[@class='message']/text()")
    assert messages and all("PopEnabled は" in m for m in messages)


def test_the_first_screen_gives_both_answers_with_their_reasons_and_says_it_is_a_sample(report: dict[str, Any]) -> None:
    """The demo (the synthetic mistakes-2016 bundle on 2026-11-27) is not ready and at risk: both answers and their
    reasons — worst first, with counts and servers — are on the first screen, with the sample's nature; its README
    is listed as documentation, not as an input problem."""
    _text, page = _page(report)
    assert "A synthetic sample bundle" in page.xpath("//header")[0].text_content()
    [pop3] = [a for a in page.xpath("//section[@id='verdicts']/article") if a.xpath("h2")[0].text.startswith("POP3")]
    badges = [" ".join(b.text_content().split()) for b in pop3.xpath("h2/span[contains(@class,'badge')]")]
    assert badges == ["readiness: not ready", "safety: at risk"]
    readiness, safety = ([li.text_content() for li in ul.xpath("li")] for ul in pop3.xpath("ul[@class='reasons']"))
    assert readiness[0] == "The certificate POP3 presents has not expired (1 of 1 servers; EX16A)"
    assert "POP3 does not accept clear-text passwords on an unencrypted port (1 of 1 servers; EX16A)" in safety
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in pop3.xpath(".//table//tr[td]")]
    assert rows == [["EX16A", "not ready", "at risk"], ["EX16B", "unknown", "at risk"]]
    assert report["synthetic"] is True and report["problems"] == []
    [readme] = [i for i in report["inputs"] if i["path"].endswith("README-SYNTHETIC.txt")]
    assert readme["format"].startswith("ignored: documentation") and readme["problems"] == []


def test_real_exports_are_not_called_a_sample(tmp_path: Path) -> None:
    for name in ("GetExchangeServer", "GetExchangeCertificate"):
        shutil.copy(CSS / f"Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__{name}.xml", tmp_path)
    real = build(scan(ScanOptions([tmp_path], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))
    assert real["synthetic"] is False
    assert "synthetic sample" not in _page(real)[0]
