"""Screenshots of the demo report for the docs: desktop (1400 px), phone (390 px) and print media.

Run from the repository root with Debian's chromium and chromium-driver installed:
    .venv/bin/python docs/screenshots/make.py
The report is the packaged demo (synthetic mistakes-2016) judged on 2026-11-27, so the pictures do not change
with the day they are made.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from analyzer.pipeline import ScanOptions, packaged_demo, scan
from analyzer.report import html_report
from analyzer.report.json_report import build

HERE = Path(__file__).resolve().parent
SHOTS = {"desktop": (1400, 1100, "screen"), "phone": (390, 1500, "screen"), "print": (800, 1400, "print")}


def main() -> None:
    report = build(scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_bytes(html_report.render(report)["report.html"])
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            for name, (width, height, media) in SHOTS.items():
                metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": name == "phone"}
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
                driver.get(page.as_uri())
                driver.save_screenshot(str(HERE / f"{name}.png"))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
