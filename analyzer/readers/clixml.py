"""Streaming, hardened reader for Export-Clixml files (MS-PSRP 2.2.5 serialization).

One `Record` per top-level object, decoded while lxml parses, so memory stays flat however many objects a file
holds. Back-references (`<Ref RefId>`) may point at any earlier object of the file, so a cheap first pass
collects the RefIds that are actually referenced, and only those objects are kept after their top-level
object is done. A projection (`properties=`) skips decoding the members nobody asked for; skipped subtrees are
still searched for type-name lists and referenced objects so later `<TNRef>` and `<Ref>` elements resolve.

Hardening: no DTD, no entities, no network, comments and PIs dropped, a DOCTYPE rejected before parsing, and
object nesting capped (PowerShell itself refuses more than 50 levels).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from analyzer import safe_xml
from analyzer.errors import InputError
from analyzer.model import InputProblem, Record, SourceRef
from analyzer.readers.clixml_parts import FramedStream, Part
from analyzer.readers.clixml_primitives import (
    CONTAINERS,
    CONVERTERS,
    INTEGER_TAGS,
    PRIMITIVE_TYPE_NAMES,
    STRING_TAGS,
    decode_string,
    encode_string,
    parse_datetime,
)
from analyzer.readers.encoding import SNIFF_BYTES, Sniffed, Utf8Stream, sniff_unicode
from analyzer.readers.psvalues import PSDict, PSEnum, PSList, PSObject

__all__ = ["ClixmlReader", "decode_string", "encode_string", "parse_datetime", "read_clixml"]

MAX_NESTING = 100
_NAME_CACHE_LIMIT = 10_000
_DESERIALIZED = "deserialized."
_PREFIX = b"#< CLIXML"
_DOCTYPE_REFUSED = (
    "DOCTYPE/ENTITY declarations are not allowed in CLIXML (PowerShell prohibits DTDs); refusing to parse"
)


class _Damaged(Exception):
    """A value or structure error inside one object; turned into a located InputError by the caller."""

    def __init__(self, element: Any, message: str) -> None:
        super().__init__(message)
        self.line = getattr(element, "sourceline", None) or 0
        self.message = message


def _local(tag: Any) -> str:
    if not isinstance(tag, str):  # comments and PIs are removed; entities are rejected earlier
        return ""
    return tag.rpartition("}")[2]


# ---------------------------------------------------------------------------------------------------------
# The decoder: one per file; the TN and Ref maps live for the whole file (one serializer wrote it).


class _Decoder:
    def __init__(self, scan: PreScan, projection: frozenset[str] | None) -> None:
        self.type_lists: dict[str, tuple[tuple[str, ...], bool]] = {}
        self.type_refs: set[str | None] = set()  # the RefIds <TNRef> elements used
        self.objects: dict[str, Any] = {}
        # None: the pre-scan could not tell what is referenced, so every object and type list is kept.
        self.needed_objects = scan.needed_objects
        self.exact = scan.needed_objects is not None
        # What is referenced but not yet seen; while empty, skipped members need no search.
        self.missing_objects = set(scan.needed_objects or ())
        self.missing_types = set(scan.needed_types or ())
        self.projection = projection
        self._tags: dict[Any, str] = {}
        self._names: dict[str | None, tuple[str, bool]] = {}
        self._unwanted: set[str | None] = set()

    # -- dispatch ------------------------------------------------------------------------------------
    def local(self, tag: Any) -> str:
        name = self._tags.get(tag)
        if name is None:
            name = self._tags[tag] = _local(tag)
        return name

    def member_name(self, raw: str | None) -> tuple[str, bool]:
        """The decoded member name and whether the projection wants it; cached, as names repeat per object."""
        entry = self._names.get(raw)
        if entry is None:
            name = decode_string(raw)
            entry = (name, self.projection is None or name.lower() in self.projection)
            if len(self._names) < _NAME_CACHE_LIMIT:  # bounded, so a file of unique names cannot grow it
                self._names[raw] = entry
                if not entry[1]:
                    self._unwanted.add(raw)
        return entry

    def keeps(self, ref_id: str | None) -> bool:
        return ref_id is not None and (self.needed_objects is None or ref_id in self.needed_objects)

    def remember(self, ref_id: str, value: Any) -> None:
        self.objects[ref_id] = value
        self.missing_objects.discard(ref_id)

    def value(self, element: Any, depth: int) -> Any:
        tag = self.local(element.tag)
        if tag == "S":
            return decode_string(element.text)
        if tag == "Nil":
            return None
        if tag == "Obj":
            return self.obj(element, depth + 1, False)
        if tag == "Ref":
            return self.ref(element)
        if tag in STRING_TAGS:
            return decode_string(element.text)
        converter = CONVERTERS.get(tag)
        if converter is not None:
            text = element.text
            if text is None:
                raise _Damaged(element, f"<{tag}> is empty; expected a value")
            try:
                return converter(text)
            except (ValueError, OverflowError) as error:
                raise _Damaged(element, f"<{tag}>: {error}") from None
        if tag in CONTAINERS:
            return self.container(element, (), depth + 1)
        if tag == "MS":  # a property set (MS inside MS)
            nested: dict[str, Any] = {}
            self.members(element, nested, depth + 1, False)
            return nested
        if tag == "PR":
            return {self.local(child.tag): decode_string(child.text) for child in element}
        raise _Damaged(element, f"unknown element <{tag}>")

    def ref(self, element: Any) -> Any:
        ref_id = element.get("RefId")
        try:
            return self.objects[ref_id]
        except KeyError:
            raise _Damaged(element, f"<Ref RefId={ref_id!r}> names no earlier object") from None

    def type_names(self, element: Any) -> tuple[tuple[str, ...], bool]:
        if self.local(element.tag) == "TNRef":
            ref_id = element.get("RefId")
            self.type_refs.add(ref_id)
            try:
                return self.type_lists[ref_id]
            except KeyError:
                raise _Damaged(element, f"<TNRef RefId={ref_id!r}> names no earlier <TN>") from None
        names: list[str] = []
        deserialized = False
        for child in element:
            name = decode_string(child.text)
            while name[:13].lower() == _DESERIALIZED:
                name, deserialized = name[13:], True
            names.append(name)
        entry = (tuple(names), deserialized)
        ref_id = element.get("RefId")
        if ref_id is not None:
            self.type_lists[ref_id] = entry
            self.missing_types.discard(ref_id)
        return entry

    # -- complex objects -----------------------------------------------------------------------------
    def obj(self, element: Any, depth: int, projection_applies: bool) -> Any:
        if depth > MAX_NESTING:
            raise _Damaged(element, f"objects nested deeper than {MAX_NESTING} levels")
        type_names: tuple[str, ...] = ()
        deserialized = False
        to_string: str | None = None
        payload = container = props = extended = None
        for child in element:
            tag = self.local(child.tag)
            if tag in ("TN", "TNRef"):
                type_names, deserialized = self.type_names(child)
            elif tag == "ToString":
                to_string = decode_string(child.text)
            elif tag == "Props":
                props = child
            elif tag == "MS":
                extended = child
            elif tag in CONTAINERS:
                container = child
            else:
                payload = child
        ref_id = element.get("RefId")
        keep = self.keeps(ref_id)

        if container is not None and props is None and extended is None:
            items = self.container(container, type_names, depth)
            if keep:
                self.remember(ref_id, items)
            return items
        if (
            payload is not None
            and props is None
            and extended is None
            and "System.Enum" in type_names
            and self.local(payload.tag) in INTEGER_TAGS
        ):
            number = self.value(payload, depth)
            enum = PSEnum(type_names[0], to_string if to_string is not None else str(number), number)
            if keep:
                self.remember(ref_id, enum)
            return enum

        result = PSObject(type_names, to_string, {}, None, deserialized)
        if keep:  # registered before its members are decoded, so a member may refer back to it (cycles)
            self.remember(ref_id, result)
        if container is not None:
            result.value = self.container(container, type_names, depth)
        elif payload is not None:
            result.value = self.value(payload, depth)
        if props is not None:
            self.members(props, result.properties, depth, projection_applies)
        if extended is not None:
            self.members(extended, result.properties, depth, projection_applies)
        return result

    def container(self, element: Any, type_names: tuple[str, ...], depth: int) -> Any:
        if depth > MAX_NESTING:
            raise _Damaged(element, f"objects nested deeper than {MAX_NESTING} levels")
        kind = self.local(element.tag)
        if kind == "DCT":
            pairs = PSDict(type_names)
            for entry in element:
                key_element = value_element = None
                for part in entry:
                    role = part.get("N")
                    if role == "Key":
                        key_element = part
                    elif role == "Value":
                        value_element = part
                if key_element is None or value_element is None:
                    raise _Damaged(entry, "dictionary entry <En> needs a Key and a Value")
                pairs.append((self.value(key_element, depth), self.value(value_element, depth)))
            return pairs
        items = PSList(type_names, kind)
        items.extend(self.value(child, depth) for child in element)
        return items

    def members(self, element: Any, into: dict[str, Any], depth: int, projection_applies: bool) -> None:
        if projection_applies:
            for name, child in self.wanted_members(element, depth):
                into[name] = self.value(child, depth)
            return
        # The reader's hot loop: the commonest tags are decoded inline rather than through value().
        tags, names = self._tags, self._names
        for child in element:
            raw = child.get("N")
            entry = names.get(raw)
            name = entry[0] if entry is not None else self.member_name(raw)[0]
            tag = tags.get(child.tag) or self.local(child.tag)
            if tag == "S":
                text = child.text
                into[name] = "" if text is None else text if "_" not in text else decode_string(text)
            elif tag == "B" and child.text in ("true", "false"):
                into[name] = child.text == "true"
            elif tag == "Nil":
                into[name] = None
            else:
                into[name] = self.value(child, depth)

    def wanted_members(self, element: Any, depth: int) -> list[tuple[str, Any]]:
        """The members a projection asks for. Skipped ones are searched only while something referenced is
        still undefined, since they may hold the <TN> or object a later reference needs."""
        unwanted = self._unwanted
        search = bool(self.missing_types or self.missing_objects or not self.exact)
        picked: list[tuple[str, Any]] = []
        for child in element:
            raw = child.get("N")
            if raw not in unwanted:
                name, wanted = self._names.get(raw) or self.member_name(raw)
                if wanted:
                    picked.append((name, child))
                    continue
            if search and len(child):
                self.register_skipped(child, depth)
        return picked

    def register_skipped(self, element: Any, depth: int) -> None:
        """A member the projection skips may still define a <TN> or an object that a later reference needs."""
        for inner in element.iter("{*}TN", "{*}Obj"):
            ref_id = inner.get("RefId")
            if ref_id is None:
                continue
            if self.local(inner.tag) == "TN":
                if ref_id not in self.type_lists:
                    self.type_names(inner)
            elif ref_id not in self.objects and self.keeps(ref_id):
                self.obj(inner, depth + 1, False)


# ---------------------------------------------------------------------------------------------------------
# Pre-scan: which RefIds are referenced, and is there a DOCTYPE.

# One pass over the bytes, in linear time whatever they hold: the attributes before RefId are bounded and cannot
# cross a `<`, so no attempt can scan the rest of a long value (an unbounded `[^>]*?` made a 128 KB value full of
# `Ref ` cost quadratic time). The pattern starts with the literal `Ref`, which the regex engine searches for
# quickly (6x faster than a leading `[<:]`, tried at every `<` of the file); what stands before it — `<` or a
# namespace prefix's `:`, then `TN` for a type list — is checked on each match.
_REF_PATTERN = re.compile(rb"Ref\s[^<>]{0,1024}?\bRefId\s*=\s*[\"']([^\"'<>]{0,256})[\"']")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class PreScan:
    """RefIds that some <Ref> / <TNRef> points at (None when an odd attribute made that uncertain)."""

    needed_objects: frozenset[str] | None
    needed_types: frozenset[str] | None
    doctype_line: int | None

    def union(self, other: PreScan) -> PreScan:
        """What two ranges of one file reference together (uncertain if either is)."""
        objects, types = (self.needed_objects, other.needed_objects), (self.needed_types, other.needed_types)
        if objects[0] is None or objects[1] is None or types[0] is None or types[1] is None:
            return PreScan(None, None, self.doctype_line)
        return PreScan(objects[0] | objects[1], types[0] | types[1], self.doctype_line)


def _pre_scan(stream: Utf8Stream, *, at_start: bool = True) -> PreScan:
    """`at_start`: the stream begins the document, where a DOCTYPE can stand (a later range is only searched
    for references; lxml refuses a DOCTYPE after the root anyway)."""
    objects: set[bytes] = set()
    types: set[bytes] = set()
    carry = b""
    first = at_start
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except UnicodeError:  # the parse meets it too, and says where; what stands before it is scanned
            chunk = b""
        data = carry + chunk
        if not chunk:
            cut = len(data)
        else:  # keep a possibly unfinished tag for the next round
            cut = data.rfind(b"<")
            cut = len(data) if cut < 0 or len(data) - cut > 65536 else cut
        block = data[:cut]
        if first:  # a DOCTYPE can only stand before the root element; anywhere else lxml refuses it
            first = False
            found = [at for at in (block.find(b"<!DOCTYPE"), block.find(b"<!ENTITY")) if at >= 0]
            if found:
                return PreScan(None, None, block.count(b"\n", 0, min(found)) + 1)
        for match in _REF_PATTERN.finditer(block):
            start = match.start()
            if block[start - 1 : start] in (b"<", b":"):
                objects.add(match.group(1))
            elif block[max(start - 3, 0) : start] in (b"<TN", b":TN"):
                types.add(match.group(1))
        carry = data[cut:]
        if not chunk:
            break
    if not all(ref_id.isdigit() for ref_id in objects | types):
        return PreScan(None, None, None)  # an entity or spaces in a value: keep everything rather than guess
    return PreScan(
        frozenset(ref_id.decode("ascii") for ref_id in objects),
        frozenset(ref_id.decode("ascii") for ref_id in types),
        None,
    )


class _XmlDamage(InputError):
    """The XML itself is damaged at `stream_line` (of the stream read, before any line offset)."""

    def __init__(self, path: str, line: int, message: str, stream_line: int) -> None:
        super().__init__(path, line, message)
        self.stream_line = stream_line


# ---------------------------------------------------------------------------------------------------------
# Public API.


class ClixmlReader:
    """Reads one Export-Clixml file. Iterating yields records; damage raises a located `InputError` after
    every record before it has been yielded, so callers keep what could be read."""

    def __init__(self, path: str | Path, *, properties: Collection[str] | None = None) -> None:
        self.path = Path(path)
        self.display_path = str(path)
        self.projection = frozenset(name.lower() for name in properties) if properties is not None else None
        with self.path.open("rb") as raw:
            head = raw.read(SNIFF_BYTES)
        self.sniffed: Sniffed = sniff_unicode(head)
        self.records_read = 0
        self._scan: PreScan | None = None
        self._decoder: _Decoder | None = None  # kept across parts: a later part may refer to an earlier one
        self._given: dict[str, tuple[tuple[str, ...], bool]] = {}  # type lists taken from before a part

    format = "clixml"

    @property
    def encoding(self) -> str:
        return self.sniffed.label

    @property
    def problems(self) -> list[InputProblem]:
        return []  # CLIXML damage stops the read with an InputError; nothing is merely doubtful

    @property
    def lossy_columns(self) -> dict[str, str]:
        return {}

    def _error(self, line: int, message: str) -> InputError:
        return InputError(self.display_path, line, message)

    def _open(self, raw: BinaryIO) -> tuple[Utf8Stream, int]:
        """A UTF-8 view of the file, positioned after a `#< CLIXML` line if there is one."""
        stream = Utf8Stream(raw, self.sniffed)
        start = stream.read(len(_PREFIX))
        if start == _PREFIX:
            rest = b""
            while b"\n" not in rest:
                more = stream.read(1)
                if not more:
                    break
                rest += more
            return stream, 1
        raw.seek(0)
        stream = Utf8Stream(raw, self.sniffed)
        return stream, 0

    def __iter__(self) -> Iterator[Record]:
        with self._decoding_errors_located():
            yield from self._records()

    @contextmanager
    def _decoding_errors_located(self) -> Iterator[None]:
        try:
            yield
        except UnicodeError as error:  # UnicodeDecodeError, or utf-16 without a BOM
            raise self._error(0, f"not valid {self.sniffed.label}: {getattr(error, 'reason', error)}") from None

    def pre_scan(self) -> PreScan:
        """What the whole file references, read once; a DOCTYPE or ENTITY raises a located error."""
        if self._scan is None:
            with self.path.open("rb") as raw, self._decoding_errors_located():
                stream, line_offset = self._open(raw)
                scan = _pre_scan(stream)
            if scan.doctype_line is not None:
                raise self._error(scan.doctype_line + line_offset, _DOCTYPE_REFUSED)
            self._scan = scan
        return self._scan

    def pre_scan_range(self, start: int, end: int | None) -> PreScan:
        """What the bytes [start, end) reference — one range of a file read in parts, whose pre-scans together
        make the file's (`PreScan.union`, then `adopt_scan`). The range from 0 is checked for a DOCTYPE."""
        with self.path.open("rb") as raw, self._decoding_errors_located():
            scan = _pre_scan(Utf8Stream(raw, self.sniffed, start=start, end=end), at_start=start == 0)
        if scan.doctype_line is not None:
            raise self._error(scan.doctype_line, _DOCTYPE_REFUSED)
        return scan

    def adopt_scan(self, scan: PreScan) -> None:
        """Use the pre-scan of the whole file made from its ranges, instead of reading the file for it."""
        self._scan = scan

    def _records(self) -> Iterator[Record]:
        self.records_read, self._decoder = 0, None  # a read from the start, even after parts were read
        scan = self.pre_scan()
        with self.path.open("rb") as raw:
            stream, line_offset = self._open(raw)
            if not stream.read(1):
                raise self._error(0, "the file is empty; expected an Export-Clixml document")
            raw.seek(0)
            stream, line_offset = self._open(raw)
            decoder = _Decoder(scan, self.projection)
            read_before = self.records_read
            try:
                yield from self._parse(stream, decoder, line_offset)
            except UnicodeError as error:  # the stream handed over every character before the bad bytes
                line = stream.lines_read + 1 + line_offset
                raise self._error(line, f"not valid {self.sniffed.label}: {getattr(error, 'reason', error)}") from None
            except _XmlDamage as damage:
                # libxml2 drops the events of the chunk it was parsing when it met the damage: the objects that
                # closed before the damaged line are read again from there, so that every one of them is kept.
                yield from self._recover(decoder, damage.stream_line, self.records_read - read_before)
                raise

    def _recover(self, decoder: _Decoder, stream_line: int, already: int) -> Iterator[Record]:
        """The top-level values that ended before line `stream_line`, after the first `already` of them."""
        with self.path.open("rb") as raw:
            stream, line_offset = self._open(raw)
            parser = etree.XMLPullParser(
                events=("end",), resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                huge_tree=False, remove_comments=True, remove_pis=True, remove_blank_text=True,
            )  # fmt: skip
            lines_left, seen = stream_line - 1, 0
            root: Any = None
            while lines_left > 0 and (chunk := stream.read(_CHUNK)):
                newlines = chunk.count(b"\n")
                if newlines >= lines_left:  # stop at the start of the damaged line
                    cut = -1
                    for _ in range(lines_left):
                        cut = chunk.index(b"\n", cut + 1)
                    chunk, lines_left = chunk[: cut + 1], 0
                else:
                    lines_left -= newlines
                try:
                    parser.feed(chunk)
                except etree.LxmlError:
                    return  # damaged earlier than libxml2 said: what was read stands
                for _event, found in parser.read_events():
                    element: Any = found
                    if root is None:
                        root = element.getroottree().getroot()
                    if element.getparent() is not root:
                        continue
                    if seen >= already:
                        yield self._record(element, decoder, line_offset)
                    seen += 1
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:
                        del root[0]

    # -- reading a file in parts (see clixml_parts): the same decoding, over one byte range at a time ----------
    def start_after(self, scan: PreScan, type_lists: Iterable[bytes]) -> None:
        """Read as if what stands before the next part had been read: the whole file's pre-scan (made by
        whoever read the file before) and the `<TN>` elements defined ahead of the part."""
        self._scan = scan
        decoder = self._decoder = _Decoder(scan, self.projection)
        hardened = safe_xml.parser()
        for block in type_lists:
            try:
                decoder.type_names(etree.fromstring(block, hardened))
            except etree.LxmlError as error:
                raise self._error(0, f"a type-name list before this part could not be read: {error}") from None
        self._given = dict(decoder.type_lists)

    def type_lists(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        """The type-name lists known so far, by RefId."""
        return dict(self._decoder.type_lists) if self._decoder is not None else {}

    def type_lists_used(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        """Of the lists `start_after` was given, those a `<TNRef>` used: each must be what a reader of the file
        from its start would have known by that name, or the part's reading is not to be trusted."""
        decoder = self._decoder
        if decoder is None:
            return {}
        return {ref_id: self._given[ref_id] for ref_id in decoder.type_refs if ref_id in self._given}

    def part(self, part: Part) -> Iterator[Record]:
        """The records of one part of the file; record indices go on from the records this reader has read."""
        scan = self.pre_scan()
        if self._decoder is None:
            self._decoder = _Decoder(scan, self.projection)
        with self.path.open("rb") as raw, self._decoding_errors_located():
            yield from self._parse(FramedStream(raw, self.sniffed, part), self._decoder, 0)

    def _parse(self, stream: Utf8Stream | FramedStream, decoder: _Decoder, line_offset: int) -> Iterator[Record]:
        # Hardened, spelled out at the call even where lxml's defaults agree (input-formats.md §5), so an audit
        # that greps for them finds them. remove_blank_text drops the indentation between elements; the
        # whitespace-only text of a leaf (`<S> </S>`) is kept, as it is data.
        parser_events = etree.iterparse(
            stream, events=("end",), tag="{*}Obj", encoding="utf-8",
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
            remove_comments=True, remove_pis=True, remove_blank_text=True,
        )  # fmt: skip
        root: Any = None
        done: Any = None  # the last top-level element already turned into a record
        try:
            for _event, element in parser_events:
                if root is None:
                    root = self._check_root(element.getroottree().getroot(), line_offset)
                if element.getparent() is not root:
                    continue
                pending = []
                previous = element.getprevious()
                while previous is not None and previous is not done:
                    pending.append(previous)
                    previous = previous.getprevious()
                for earlier in reversed(pending):
                    yield self._record(earlier, decoder, line_offset)
                yield self._record(element, decoder, line_offset)
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del root[0]
                done = element
        except etree.LxmlError as error:
            line = getattr(error, "lineno", 0) or 0
            message = getattr(error, "msg", None) or str(error)
            raise _XmlDamage(self.display_path, line + line_offset, f"damaged or truncated XML: {message}",
                             line) from None  # fmt: skip
        if root is None:
            root = self._check_root(parser_events.root, line_offset)
        for remaining in list(root):
            if remaining is not done:
                yield self._record(remaining, decoder, line_offset)

    def _check_root(self, root: Any, line_offset: int) -> Any:
        if root.getroottree().docinfo.doctype:  # defence in depth; the pre-scan already refuses these
            raise self._error(1 + line_offset, "DOCTYPE declarations are not allowed in CLIXML")
        if _local(root.tag) != "Objs":
            raise self._error(
                (root.sourceline or 1) + line_offset,
                f"root element is <{_local(root.tag)}>; expected <Objs> (is this an Export-Clixml file?)",
            )
        return root

    def _record(self, element: Any, decoder: _Decoder, line_offset: int) -> Record:
        line = (element.sourceline or 0) + line_offset
        index = self.records_read
        try:
            tag = decoder.local(element.tag)
            if tag == "Obj":
                # An object that a later <Ref> needs is decoded whole, never projected.
                projected = decoder.projection is not None and not decoder.keeps(element.get("RefId"))
                value = decoder.obj(element, 0, projected)
            else:
                value = decoder.value(element, 0)
        except _Damaged as damage:
            raise self._error(damage.line + line_offset, damage.message) from None
        except RecursionError:
            raise self._error(line, "objects nested too deeply") from None
        self.records_read += 1
        source = SourceRef(self.display_path, line, index)
        stream = element.get("S")
        if isinstance(value, PSObject):
            return Record(
                value.type_names,
                value.to_string,
                value.properties,
                source,
                value.deserialized,
                value.value,
                stream,
            )
        if isinstance(value, (PSList, PSDict)):
            return Record(value.type_names, None, {}, source, False, value, stream)
        if isinstance(value, PSEnum):
            return Record((value.type_name,), value.name, {}, source, False, value, stream)
        type_name = PRIMITIVE_TYPE_NAMES.get(decoder.local(element.tag), "")
        return Record((type_name,) if type_name else (), None, {}, source, False, value, stream)


def read_clixml(path: str | Path, *, properties: Collection[str] | None = None) -> Iterator[Record]:
    """Yield the records of an Export-Clixml file; see `ClixmlReader`."""
    return iter(ClixmlReader(path, properties=properties))
