"""Dates as the exporting machine wrote them (Export-Csv, Format-List: `DateTime.ToString()` in the session's
culture, in local time), and how a file's day/month order is decided.

A culture date is read into its numbers first (`LocalDate`); whether `12/02/2018` is 12 February or 2 December
is decided for the whole file — one file has one culture — from evidence: a first field above 12 proves
day-first, a second field above 12 proves month-first. When the file alone cannot decide, the bundle tries the
same object exported elsewhere (a certificate's thumbprint in a CLIXML export), then the culture the manifest
records, then `--culture` / `--date-format`. Nothing decided is never guessed: the column is flagged.

Sources: docs/formats.md §Dates (the cultures table and its sources).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_FIRST, MONTH_FIRST = "day-first", "month-first"

# AM/PM designators Windows cultures use, compared without case, dots or spaces (`a.m.`, `a. m.` → `am`).
_AM = frozenset({"am", "a", "午前", "오전", "上午", "πμ", "ص", "ap", "fm", "vorm", "dop", "de"})
_PM = frozenset({"pm", "p", "午後", "오후", "下午", "μμ", "م", "ip", "em", "nachm", "odp", "du"})
_NUMBER = re.compile(r"\d+")
_NOT_DESIGNATOR = re.compile(r"[\d\s/.:\-,]")


def _designator_key(text: str) -> str:
    return _NOT_DESIGNATOR.sub("", text).casefold()


@dataclass(frozen=True)
class Culture:
    """How one Windows culture writes `DateTime.ToString()`: the date order, its AM/PM designators and the
    years its calendar runs ahead of the Gregorian one (th-TH's Buddhist calendar: 543)."""

    name: str
    short_date: str
    long_time: str
    am: str = ""
    pm: str = ""
    year_offset: int = 0

    @property
    def order(self) -> str:
        return order_of_pattern(self.short_date)


def order_of_pattern(pattern: str) -> str:
    """`dd/MM/yyyy` → day-first, `M/d/yyyy` → month-first, `yyyy-MM-dd` → year-first (.NET custom format)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"|\\.", "", pattern)
    positions = {letter: unquoted.find(letter) for letter in "yMd"}
    if min(positions.values()) < 0:
        raise ValueError(f"a date pattern needs y, M and d: {pattern!r}")
    if positions["y"] < positions["M"] and positions["y"] < positions["d"]:
        return "year-first"
    return DAY_FIRST if positions["d"] < positions["M"] else MONTH_FIRST


# Windows' default patterns (NLS, Windows 10 / Server 2016 and later) for cultures admins commonly run Exchange
# under. docs/formats.md lists each entry's source; an admin may have changed them (Region settings), which only
# the manifest or --date-format can tell.
CULTURES: Mapping[str, Culture] = {
    c.name.lower(): c
    for c in (
        Culture("en-US", "M/d/yyyy", "h:mm:ss tt", "AM", "PM"),
        Culture("en-GB", "dd/MM/yyyy", "HH:mm:ss"),
        Culture("en-AU", "d/MM/yyyy", "h:mm:ss tt", "AM", "PM"),
        Culture("en-NZ", "d/MM/yyyy", "h:mm:ss tt", "a.m.", "p.m."),
        Culture("en-CA", "yyyy-MM-dd", "h:mm:ss tt", "a.m.", "p.m."),
        Culture("en-IE", "dd/MM/yyyy", "HH:mm:ss"),
        Culture("en-IN", "dd-MM-yyyy", "HH:mm:ss"),
        Culture("en-ZA", "yyyy/MM/dd", "HH:mm:ss"),
        Culture("de-DE", "dd.MM.yyyy", "HH:mm:ss"),
        Culture("de-CH", "dd.MM.yyyy", "HH:mm:ss"),
        Culture("fr-FR", "dd/MM/yyyy", "HH:mm:ss"),
        Culture("fr-CA", "yyyy-MM-dd", "HH:mm:ss"),
        Culture("es-ES", "dd/MM/yyyy", "H:mm:ss"),
        Culture("it-IT", "dd/MM/yyyy", "HH:mm:ss"),
        Culture("pt-BR", "dd/MM/yyyy", "HH:mm:ss"),
        Culture("nl-NL", "d-M-yyyy", "HH:mm:ss"),
        Culture("sv-SE", "yyyy-MM-dd", "HH:mm:ss"),
        Culture("da-DK", "dd-MM-yyyy", "HH:mm:ss"),
        Culture("nb-NO", "dd.MM.yyyy", "HH:mm:ss"),
        Culture("fi-FI", "d.M.yyyy", "H.mm.ss"),
        Culture("pl-PL", "dd.MM.yyyy", "HH:mm:ss"),
        Culture("ru-RU", "dd.MM.yyyy", "H:mm:ss"),
        Culture("tr-TR", "d.MM.yyyy", "HH:mm:ss"),
        Culture("ja-JP", "yyyy/MM/dd", "H:mm:ss"),
        Culture("zh-CN", "yyyy/M/d", "H:mm:ss"),
        Culture("zh-TW", "yyyy/M/d", "tt hh:mm:ss", "上午", "下午"),
        Culture("ko-KR", "yyyy-MM-dd", "tt h:mm:ss", "오전", "오후"),
        Culture("th-TH", "d/M/yyyy", "H:mm:ss", year_offset=543),
    )
}


@dataclass(frozen=True)
class LocalDate:
    """A culture-written date in the exporting machine's local time, read into its numbers; `first` and
    `second` are the two fields before the year when the layout does not put the year first."""

    text: str
    first: int
    second: int
    year: int
    year_first: bool
    hour: int
    minute: int
    second_of_minute: int
    pm: bool | None  # None: a 24-hour clock

    @property
    def evidence(self) -> str | None:
        """The order this value alone proves, if any."""
        if self.year_first:
            return None
        if self.first > 12:
            return DAY_FIRST
        if self.second > 12:
            return MONTH_FIRST
        return None

    @property
    def needs_order(self) -> bool:
        """Whether the two orders give different dates for this value."""
        return not self.year_first and self.first != self.second

    def moment(self, order: str | None, year_offset: int = 0) -> datetime:
        """The naive local moment under `order` (ignored where the value does not need one)."""
        year = self.year - year_offset
        if self.year_first or not self.needs_order or order == MONTH_FIRST:
            month, day = self.first, self.second
        elif order == DAY_FIRST:
            day, month = self.first, self.second
        else:
            raise ValueError(f"{self.text!r}: the day/month order is not decided")
        _check_calendar(year, self.text)
        hour = self.hour
        if self.pm is not None:
            if not 1 <= hour <= 12:
                raise ValueError(f"{self.text!r}: hour {hour} with an AM/PM designator")
            hour = hour % 12 + (12 if self.pm else 0)
        try:
            return datetime(year, month, day, hour, self.minute, self.second_of_minute)
        except ValueError as error:
            raise ValueError(f"{self.text!r} is not a date: {error}") from None


def _check_calendar(year: int, text: str) -> None:
    """Years another calendar writes are refused with the reason, never read as Gregorian ones."""
    if year >= 2400:
        raise ValueError(
            f"{text!r}: year {year} is not a Gregorian year — the exporting machine uses another calendar "
            "(Thai Buddhist years run 543 ahead: --culture th-TH); or export with Export-Clixml"
        )
    if 1300 <= year < 1600:
        raise ValueError(
            f"{text!r}: year {year} looks like a Hijri or Persian calendar year, which exaudit does not convert; "
            "export with Export-Clixml"
        )


def read_local(text: str, designators: tuple[frozenset[str], frozenset[str]] = (_AM, _PM)) -> LocalDate:
    """The numbers of a culture-written date and time: `12/02/2018 1:53:00 PM`, `20.11.2022 09:27:45`,
    `2022-11-20 9:27:45 a.m.`, `2018/02/12 午後 1:53:00`, `2018. 02. 12. 13:53:00`. Raises ValueError."""
    numbers = [int(found) for found in _NUMBER.findall(text)]
    widths = [len(found) for found in _NUMBER.findall(text)]
    if len(numbers) not in (3, 5, 6):
        raise ValueError(f"expected a date, got {text!r}")
    key = _designator_key(text)
    am, pm = designators
    if key and key not in am and key not in pm:
        raise ValueError(f"expected a date, got {text!r} (an unknown AM/PM designator or a month name)")
    a, b, c = numbers[:3]
    year_first = widths[0] == 4 or a > 31
    if year_first:
        year, first, second = a, b, c
    else:
        year, first, second = c, a, b
        if widths[2] == 2:  # .NET's two-digit years: 00–49 → 2000s (TwoDigitYearMax 2049)
            year += 2000 if year < 50 else 1900
    time = [*numbers[3:], 0, 0, 0][:3]
    return LocalDate(text, first, second, year, year_first, time[0], time[1], time[2], None if not key else key in pm)


@dataclass(frozen=True)
class Decision:
    """A file's day/month order, how it was decided, or why it could not be."""

    order: str | None
    basis: str
    conflict: bool = False


def decide(dates: Iterable[LocalDate], fallback: Decision | None = None) -> Decision:
    """The order of one file's dates: its own values first, then `fallback` (the bundle's other evidence)."""
    needing = [d for d in dates if d.needs_order]
    if not needing:
        return Decision(None, "no date in the file depends on the day/month order")
    proofs = {d.evidence: d for d in needing if d.evidence}
    if len(proofs) == 2:
        return Decision(
            None,
            f"the file's dates disagree: {proofs[DAY_FIRST].text!r} is day-first, "
            f"{proofs[MONTH_FIRST].text!r} is month-first",
            conflict=True,
        )
    if proofs:
        (order, proof), *_ = proofs.items()
        assert order is not None
        return Decision(order, f"{proof.text!r} reads only that way")
    if fallback is not None and fallback.order:
        return fallback
    example = needing[0].text
    return Decision(
        None,
        f"ambiguous date order: {example!r} reads as {needing[0].moment(DAY_FIRST).date()} day-first and "
        f"{needing[0].moment(MONTH_FIRST).date()} month-first, and nothing in the bundle decides it — "
        "give --culture NAME or --date-format PATTERN, or export with Export-Clixml",
    )


def order_from_known(pairs: Iterable[tuple[LocalDate, datetime]]) -> Decision | None:
    """The order that makes text dates agree (within a day: the text is local time) with the same objects'
    dates from an export that carries them exactly (CLIXML), when only one order does."""
    fits: dict[str, LocalDate] = {}
    for local, exact in pairs:
        if not local.needs_order:
            continue
        naive = exact.astimezone(UTC).replace(tzinfo=None)
        for order in (DAY_FIRST, MONTH_FIRST):
            try:
                if abs(local.moment(order) - naive) <= timedelta(days=1):
                    fits.setdefault(order, local)
            except ValueError:
                continue
    if len(fits) == 1:
        (order, local), *_ = fits.items()
        return Decision(order, f"{local.text!r} then matches the same object's date in another export")
    return None


@dataclass(frozen=True)
class DateSettings:
    """What the user or the manifest says about the exporting machine: an order, designators, a calendar
    offset and a time zone; `source` names where it came from, for the report."""

    source: str
    order: str | None = None
    year_offset: int = 0
    am: frozenset[str] = field(default_factory=frozenset)
    pm: frozenset[str] = field(default_factory=frozenset)
    zone: ZoneInfo | None = None

    def designators(self) -> tuple[frozenset[str], frozenset[str]]:
        return _AM | self.am, _PM | self.pm

    def decision(self) -> Decision | None:
        return Decision(self.order, f"given by {self.source}") if self.order else None


def settings_for_culture(name: str) -> DateSettings:
    culture = CULTURES.get(name.lower())
    if culture is None:
        known = ", ".join(c.name for c in CULTURES.values())
        raise ValueError(f"unknown culture {name!r}; known: {known} (or give --date-format PATTERN)")
    return _from_culture(culture, f"--culture {culture.name}")


def _from_culture(culture: Culture, source: str, zone: ZoneInfo | None = None) -> DateSettings:
    order = culture.order
    return DateSettings(
        source,
        None if order == "year-first" else order,
        culture.year_offset,
        frozenset({_designator_key(culture.am)} - {""}),
        frozenset({_designator_key(culture.pm)} - {""}),
        zone,
    )


def settings_for_pattern(pattern: str) -> DateSettings:
    order = order_of_pattern(pattern)
    return DateSettings(f"--date-format {pattern}", None if order == "year-first" else order)


def windows_zone(zone_id: str) -> ZoneInfo:
    """The IANA zone of a Windows time-zone id (`Tokyo Standard Time`), from CLDR's table as tzlocal ships it."""
    from tzlocal.windows_tz import win_tz  # noqa: PLC0415 - loaded only when a manifest names a zone

    name = win_tz.get(zone_id)
    if name is None:
        raise ValueError(f"unknown Windows time-zone id {zone_id!r}")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise ValueError(f"no time-zone data for {name} (install the tzdata package)") from None


def settings_from_manifest(manifest: Mapping[str, Any] | None) -> DateSettings | None:
    """The `culture` object the collection script records: name, short_date_pattern, long_time_pattern,
    am_designator, pm_designator, calendar and time_zone_id. Raises ValueError on a malformed one."""
    recorded = (manifest or {}).get("culture")
    if recorded is None:
        return None
    if not isinstance(recorded, Mapping):
        raise ValueError("the manifest's 'culture' is not an object")
    zone_id = recorded.get("time_zone_id")
    zone = windows_zone(str(zone_id)) if zone_id else None
    pattern = recorded.get("short_date_pattern")
    calendar = str(recorded.get("calendar") or "GregorianCalendar")
    if calendar not in ("GregorianCalendar", "ThaiBuddhistCalendar"):
        raise ValueError(f"the manifest's calendar {calendar} is not one exaudit converts; export with Export-Clixml")
    culture = Culture(
        str(recorded.get("name") or "the manifest"),
        str(pattern) if pattern else "yyyy-MM-dd",
        str(recorded.get("long_time_pattern") or ""),
        str(recorded.get("am_designator") or ""),
        str(recorded.get("pm_designator") or ""),
        543 if calendar == "ThaiBuddhistCalendar" else 0,
    )
    if not pattern:
        return DateSettings("the manifest", zone=zone)
    return _from_culture(culture, f"the manifest (culture {culture.name})", zone)


# What a pandas timestamp column holds (nanoseconds since 1970 in 64 bits), with a day to spare at each end.
_EARLIEST, _LATEST = datetime(1677, 9, 23, tzinfo=UTC), datetime(2262, 4, 10, tzinfo=UTC)


def in_range(moment: datetime) -> datetime:
    """A date a column can hold; DateTime.MinValue (`1/1/0001`), year 9999 and the like are refused as
    unreadable cells (each a located problem) rather than crashing the typing of the whole column."""
    if not _EARLIEST <= moment <= _LATEST:
        raise ValueError(f"{moment.date().isoformat()} is outside the dates exaudit can compare (1678 to 2262)")
    return moment


def to_utc(moment: datetime, zone: ZoneInfo | None) -> datetime:
    """A naive local moment as UTC when the zone is known (DST included); otherwise kept as written, labelled
    UTC only because a column holds one kind — the dataset says it is local time (`Dataset.local_time`)."""
    if zone is None:
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class LocalText:
    """A date cell written by the exporting machine's culture, read once its file's order is decided."""

    text: str


@dataclass(frozen=True)
class DeferredDate:
    """Where a culture-written date sits: its column, record index and line, and the object's identity (to
    find the same object in another export)."""

    column: str
    index: int
    line: int
    identity: str | None
    text: str


@dataclass
class Resolution:
    """One file's culture dates made into moments, with the problems and flags that go with them."""

    values: dict[tuple[str, int], datetime] = field(default_factory=dict)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # column ('' for the file), line, message
    lossy: dict[str, str] = field(default_factory=dict)
    local_time: dict[str, str] = field(default_factory=dict)
    order: str | None = None  # how the file's day/month order was decided, when any of its dates needed it


def _read_all(
    deferred: Iterable[DeferredDate], settings: DateSettings | None
) -> tuple[list[tuple[DeferredDate, LocalDate]], list[tuple[DeferredDate, str]]]:
    """The deferred dates read into their numbers, and those that are no culture date, with the reason."""
    designators = settings.designators() if settings else (_AM, _PM)
    read: list[tuple[DeferredDate, LocalDate]] = []
    failed: list[tuple[DeferredDate, str]] = []
    for item in deferred:
        try:
            read.append((item, read_local(item.text, designators)))
        except ValueError as error:
            failed.append((item, str(error)))
    return read, failed


# The order the rest of the bundle gives a file's dates, asked only when the file's own values do not decide.
Fallback = Callable[[Sequence[tuple[DeferredDate, LocalDate]]], Decision | None]


def resolve(
    deferred: list[DeferredDate], path: str, settings: DateSettings | None, fallback: Fallback | None = None
) -> Resolution:
    """Decide the file's order (its own dates first, then `fallback`) and turn every date into a moment:
    UTC when the zone is known (the manifest's, or a column named …UTC), else local time, said so."""
    out = Resolution()
    read, failed = _read_all(deferred, settings)
    out.problems.extend((item.column, item.line, reason) for item, reason in failed)
    locals_ = [local for _item, local in read]
    decision = decide(locals_)
    if (
        decision.order is None
        and not decision.conflict
        and fallback is not None
        and any(d.needs_order for d in locals_)
    ):
        decision = decide(locals_, fallback(read))
    undecided = decision.order is None and any(local.needs_order for _item, local in read)
    if decision.order is not None:
        out.order = f"{decision.order}: {decision.basis}"
    if undecided:
        first = next(item for item, local in read if local.needs_order)
        out.problems.append(("", first.line, decision.basis))
        for item, local in read:
            if local.needs_order:
                out.lossy.setdefault(item.column, f"{decision.basis} (first at {path}:{item.line})")
    offset = settings.year_offset if settings else 0
    for item, local in read:
        if local.needs_order and undecided:
            continue
        utc_column = item.column.lower().endswith("utc")
        zone = ZoneInfo("UTC") if utc_column else settings.zone if settings else None
        try:
            out.values[(item.column, item.index)] = in_range(to_utc(local.moment(decision.order, offset), zone))
        except ValueError as error:
            out.problems.append((item.column, item.line, str(error)))
            continue
        if zone is None:
            out.local_time.setdefault(
                item.column,
                f"{item.column} is the exporting machine's local time (a text export carries no time zone; first at "
                f"{path}:{item.line}): compared by calendar day",
            )
    return out
