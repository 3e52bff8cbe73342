"""Rule packs: folders of rule files with a `pack.yaml` saying what they judge against. A scan runs the packs
marked `default` (the POP3/IMAP4 pack) unless told otherwise, so adding a baseline pack never changes what an
existing user's scan, `--fail-on` gate or baseline comparison sees; `--pack NAME` or a policy file's `packs:` adds
packs by name."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer.engine import rule_cache
from analyzer.engine.loader import Rule, load_rules, read_validated
from analyzer.errors import ExauditError

PACK_FILE = "pack.yaml"


@dataclass(frozen=True)
class Pack:
    name: str
    title: str
    description: str
    default: bool
    folder: Path
    title_ja: str | None = None
    framework: str | None = None
    version: str | None = None
    coverage: str | None = None  # what part of the baseline the pack holds (a partial pack says so)
    coverage_ja: str | None = None
    shares: tuple[str, ...] = ()  # packs whose rules naming this pack's framework are this pack's too


@cache
def pack_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((resources.files("analyzer.engine") / "pack.schema.json").read_text("utf-8"))
    return schema


def read_pack(folder: Path) -> Pack:
    """A pack file, from the rule cache when an earlier run validated these bytes (a scan then needs neither PyYAML
    nor jsonschema), else read and validated."""
    path = folder / PACK_FILE
    try:
        content: bytes | None = path.read_bytes()
    except OSError:
        content = None  # read_validated says what is wrong with it
    data = rule_cache.fetch(content, "pack") if content is not None else None
    if data is None or data.get("name") != folder.name:
        data, error = read_validated(path, pack_schema(), "pack file")
        if data["name"] != folder.name:
            raise error(("name",), f"the pack's name must be its folder's name, {folder.name!r}")
        if content is not None:
            rule_cache.store(content, data, "pack")
    return Pack(data["name"], data["title"], " ".join(data["description"].split()), data["default"], folder,
                data.get("title_ja"), data.get("framework"), data.get("version"), data.get("coverage"),
                data.get("coverage_ja"), tuple(data.get("shares", ())))  # fmt: skip


def packaged_packs(root: Path) -> list[Pack]:
    """The packs shipped with exaudit, by name."""
    return [read_pack(folder) for folder in sorted(root.iterdir()) if (folder / PACK_FILE).is_file()]


def selected(packs: list[Pack], names: list[str]) -> list[Pack]:
    """The default packs and the ones named, in the shipped order; an unknown name stops the scan."""
    by_name = {pack.name: pack for pack in packs}
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the packs are {', '.join(by_name)}"
            raise ExauditError(f"--pack {name}: no such rule pack{hint} (exaudit rules packs lists them)")
    return [pack for pack in packs if pack.default or pack.name in names]


def shared_rules(chosen: Sequence[Pack], packs: Sequence[Pack]) -> list[Rule]:
    """The rules a chosen pack takes from a pack it shares (`shares:`) that is not chosen itself: those naming a
    control of a chosen pack's framework. A pack both chosen and shared is loaded once, as chosen."""
    names = {pack.name for pack in chosen}
    by_name = {pack.name: pack for pack in packs}
    sources = dict.fromkeys(name for pack in chosen for name in pack.shares if name not in names)
    folders = [by_name[name].folder for name in sources if name in by_name]  # the shipped packs' test keeps names true
    frameworks = _frameworks(chosen)
    return [rule for rule in load_rules(folders) if any(c["framework"] in frameworks for c in rule.controls)]


def narrowed(rules: Sequence[Rule], chosen: Sequence[Pack]) -> list[Rule]:
    """Each rule that serves baselines of several versions (one check, a 2016 and a 2019 STIG item), as far as the
    chosen packs' frameworks ask: only their controls, and only the servers of those controls' products — the 2016
    STIG alone never judges an Exchange 2019 server. A rule naming none of the chosen frameworks stays as it is."""
    frameworks = _frameworks(chosen)
    out = []
    for rule in rules:
        kept = tuple(control for control in rule.controls if control["framework"] in frameworks)
        if not kept or len(kept) == len(rule.controls):
            out.append(rule)
            continue
        products = rule.applies_to.get("products")
        wanted = {product for control in kept for product in control.get("products", products or ())}
        applies_to = rule.applies_to
        if products and wanted:
            applies_to = {**applies_to, "products": [product for product in products if product in wanted]}
        out.append(replace(rule, controls=kept, applies_to=applies_to))
    return out


def pack_rules(pack: Pack, packs: Sequence[Pack]) -> list[Rule]:
    """The rules a scan running this pack alone evaluates: its own and those it shares, as far as it asks."""
    return narrowed(sorted(load_rules([pack.folder]) + shared_rules([pack], packs), key=lambda rule: rule.id), [pack])


def _frameworks(packs: Sequence[Pack]) -> set[str]:
    return {pack.framework for pack in packs if pack.framework}
