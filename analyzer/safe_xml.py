"""Whole XML documents a user supplies (a STIG's XCCDF, an earlier checklist) and small fragments of an export,
parsed with the hardening every XML input gets: no DTD, no entity expansion, no network, and a DOCTYPE refused.
(Large exports are streamed by the CLIXML reader with the same options.)"""

from __future__ import annotations

from typing import Any

from lxml import etree

from analyzer.errors import InputError


def parser() -> etree.XMLParser:
    """A parser that loads no DTD, expands no entity and reaches no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_document(data: bytes, path: str, *, malformed: str, doctype: str) -> Any:
    """The document's root element; damage is a located error starting with `malformed`, a DOCTYPE one saying
    `doctype`."""
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as error:
        raise InputError(path, error.lineno or 0, f"{malformed}: {error.msg}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):  # lxml-stubs lacks the attribute
        raise InputError(path, 1, doctype)
    return root
