"""Regenerate the compiled templates: `python -m analyzer.report.precompiled` after editing a template."""

from __future__ import annotations

from pathlib import Path

from analyzer.report.html_report import environment, template_source
from analyzer.report.precompiled import TEMPLATES, generate, module_name

if __name__ == "__main__":
    folder = Path(__file__).parent
    for template in TEMPLATES:
        target = folder / f"{module_name(template)}.py"
        target.write_text(generate(environment(), template, template_source(template)), encoding="utf-8", newline="\n")
        print(f"wrote {target}")
