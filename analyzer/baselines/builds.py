"""A dated catalogue of Exchange builds: every cumulative update (CU) of Exchange 2013, 2016, 2019 and Subscription
Edition with its security (SU) and hotfix (HU) updates, as facts: product, CU, update, build.

Shipped as package data (`exchange-builds.csv`, extracted from Microsoft's CSS-Exchange build dictionary, MIT; see
docs/patch-currency.md), or read from a newer file given with `--builds`, so that an air-gapped site refreshes it by
copying one file. An update's name carries its month (`Feb26SU`): the catalogue is as new as its newest update, and
only updates released by the evaluation date count. A build the catalogue does not know — a later update, or the
privately distributed Extended Security Update builds — is "not in the catalogue": never a pass or a fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from analyzer.errors import InputError

PACKAGED = "exchange-builds.csv"
_UPDATE = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(\d{2})(SU|HU)(v\d+)?$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PRODUCTS = {"Exchange2013": "Exchange 2013", "Exchange2016": "Exchange 2016", "Exchange2019": "Exchange 2019",
             "ExchangeSE": "Exchange Server SE"}  # fmt: skip
STALE_DAYS = 90

Version = tuple[int, int, int, int]


def parse_build(text: object) -> Version | None:
    """`15.2.1544.39`, ExSetup's `15.02.1544.039` or AdminDisplayVersion's `Version 15.2 (Build 1544.4)`."""
    found = re.search(r"(\d+)\.(\d+)\D+?(\d+)\.(\d+)", str(text or ""))
    return (int(found[1]), int(found[2]), int(found[3]), int(found[4])) if found else None


@dataclass(frozen=True)
class Release:
    product: str
    cu: str
    update: str  # "" for the CU itself
    build: Version
    month: dt.date | None  # the update's month (its first day); None for a CU, whose date the source does not give


@dataclass(frozen=True)
class Catalogue:
    source: str
    releases: tuple[Release, ...]

    @property
    def date(self) -> dt.date:
        """The month of the newest update it knows (its first day)."""
        return max(release.month for release in self.releases if release.month is not None)

    def stale_at(self, as_of: dt.date) -> int | None:
        """Days the catalogue is older than `as_of` beyond STALE_DAYS (counted from the end of its month), or None."""
        month_end = (self.date.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        late = (as_of - month_end).days
        return late if late > STALE_DAYS else None

    def _cu_releases(self, build: Version) -> list[Release]:
        return [r for r in self.releases if r.build[:3] == build[:3]]

    def cu_of(self, build: Version) -> Release | None:
        """The cumulative update a build belongs to (by its first three numbers)."""
        return next((r for r in self._cu_releases(build) if not r.update), None)

    def newest_of_cu(self, build: Version, as_of: dt.date) -> Release | None:
        """The newest release of the build's CU by `as_of` (the CU itself if no update came out by then)."""
        known = [r for r in self._cu_releases(build) if r.month is None or r.month <= as_of]
        return max(known, key=lambda r: r.build, default=None)

    def is_newest(self, build: Version, as_of: dt.date) -> bool | None:
        """The build is its CU's newest release by `as_of`; None when the catalogue does not know the build."""
        if not any(r.build == build for r in self.releases):
            return None
        newest = self.newest_of_cu(build, as_of)
        return newest is not None and build >= newest.build

    def serviced(self, build: Version, as_of: dt.date) -> bool | None:
        """The build's CU received its product's newest security update released by `as_of` (Microsoft ships
        security updates for the CUs it still services), or is newer than every CU that did; None when the catalogue
        does not know the CU."""
        cu = self.cu_of(build)
        if cu is None:
            return None
        months = [r.month for r in self.releases if r.product == cu.product and r.month and r.month <= as_of
                  and "SU" in r.update]  # fmt: skip
        if not months:
            return True  # no security update of this product yet: every CU is current
        latest = max(months)
        patched = {r.build[:3] for r in self.releases
                   if r.product == cu.product and r.month == latest and "SU" in r.update}  # fmt: skip
        # A CU newer than every CU that got it came out after that update (the source gives no CU dates).
        return build[:3] in patched or build[:3] > max(patched)


def exposed(catalogue: Catalogue, build: Version, update: str) -> bool | None:
    """Whether a build lacks the fix the security update `update` (e.g. `Mar21SU`) brought: it is older than that
    update's build for its CU, or its CU is older than every CU that got it. A CU newer than all of them came out
    with the fix. None when the catalogue knows neither the CU nor which builds of the product got the update."""
    if catalogue.cu_of(build) is None:
        return None
    fixed = sorted(r.build for r in catalogue.releases if r.update == update and r.build[:2] == build[:2])
    if not fixed:
        return None
    for first in fixed:
        if build < first:
            return True
        if build[:3] == first[:3]:
            return False
    return False


def read_catalogue(data: str, source: str) -> Catalogue:
    """A catalogue from its CSV text (header `product,cu,update,build`); a bad row is a located error."""
    reader = csv.DictReader(io.StringIO(data))
    if reader.fieldnames is None or not {"product", "cu", "update", "build"} <= set(reader.fieldnames):
        raise InputError(source, 1, "expected the header product,cu,update,build")
    releases = []
    for row in reader:
        line = reader.line_num
        product = _PRODUCTS.get((row.get("product") or "").strip())
        build = parse_build(row.get("build"))
        update = (row.get("update") or "").strip()
        month = _month(update)
        if product is None or build is None or (update and month is None):
            raise InputError(source, line, f"expected a product ({', '.join(_PRODUCTS)}), a build like 15.2.1544.39 "
                             f"and an update like Feb26SU; got {dict(row)}")  # fmt: skip
        releases.append(Release(product, (row.get("cu") or "").strip(), update, build, month))
    if not any(r.month for r in releases):
        raise InputError(source, 0, "no update with a month (like Feb26SU): the catalogue has no date")
    return Catalogue(source, tuple(releases))


def _month(update: str) -> dt.date | None:
    found = _UPDATE.match(update)
    if not found:
        return None
    return dt.date(2000 + int(found[2]), _MONTHS.index(found[1]) + 1, 1)


@cache
def packaged() -> Catalogue:
    """The catalogue shipped with this version of exaudit."""
    text = (resources.files("analyzer.baselines") / PACKAGED).read_text(encoding="utf-8")
    return read_catalogue(text, f"exaudit:{PACKAGED}")


_MAX_BYTES = 16 << 20  # the shipped catalogue is 10 KB; a file this large is not one


def from_file(path: Path) -> Catalogue:
    """A newer catalogue given with --builds."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise InputError(str(path), 0, f"larger than {_MAX_BYTES >> 20} MB: not an Exchange build catalogue")
        return read_catalogue(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), 0, f"cannot be read: {error}") from None
