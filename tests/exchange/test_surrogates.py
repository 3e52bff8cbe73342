"""A lone UTF-16 surrogate in a value (PowerShell escapes one as `_xD800_`, JSON as `\\ud800`) cannot be stored as
UTF-8: the scan shows it as U+FFFD and says so at its line, rather than stopping (found by fuzz/split_read.py)."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer.exchange.bundle import load_bundle
from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
from analyzer.synthetic.samples import clixml_bytes

NAME = '<S N="Name">user000001</S>'


def mailbox_export(tmp_path: Path, name_element: str) -> Path:
    objects = [(TYPE_NAMES, *cas_mailbox(index)) for index in range(3)]
    text = clixml_bytes(objects, utf16=False).decode()
    assert NAME in text
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "Get-CASMailbox.xml").write_text(text.replace(NAME, name_element), encoding="utf-8")
    return folder


def test_a_lone_surrogate_in_clixml_is_shown_as_a_replacement_character_and_located(tmp_path: Path) -> None:
    bundle = load_bundle([mailbox_export(tmp_path, '<S N="Name">user_xDFB5_</S>')])
    frame = bundle.datasets["cas_mailbox"].frame
    assert "user\ufffd" in set(frame["Name"])
    lines = (tmp_path / "bundle/Get-CASMailbox.xml").read_text().splitlines()
    second_object = [number for number, text in enumerate(lines, 1) if text.startswith("  <Obj ")][1]
    found = [(p.line, p.message) for p in bundle.problems if "surrogate" in p.message]
    assert found == [
        (second_object, "cas_mailbox.Name: a lone UTF-16 surrogate (half of a character) is shown as U+FFFD")
    ]


def test_a_surrogate_pair_is_one_character_and_no_problem(tmp_path: Path) -> None:
    bundle = load_bundle([mailbox_export(tmp_path, '<S N="Name">user_xD83C__xDFB5_</S>')])
    assert "user\U0001f3b5" in set(bundle.datasets["cas_mailbox"].frame["Name"])
    assert not [p for p in bundle.problems if "surrogate" in p.message]


def test_a_lone_surrogate_in_json_is_shown_as_a_replacement_character(tmp_path: Path) -> None:
    props, extended = cas_mailbox(1)
    row = {key: value for key, value in {**props, **extended}.items() if isinstance(value, (str, bool, int))}
    row["Name"] = "user\udfb5"
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "Get-CASMailbox.json").write_text(json.dumps([row]), encoding="utf-8")  # written as \udfb5
    bundle = load_bundle([folder])
    assert list(bundle.datasets["cas_mailbox"].frame["Name"]) == ["user\ufffd"]
    assert [p.line for p in bundle.problems if "lone UTF-16 surrogate" in p.message]
