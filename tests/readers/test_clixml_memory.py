"""The CLIXML reader streams: the memory it needs does not grow with the number of objects it reads. Each size runs
in a process of its own, whose peak resident memory is compared (docs/performance.md has the large-scale figures)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

_TYPES = '<TN RefId="0">\n      <T>System.ServiceProcess.ServiceController</T>\n    </TN>'
_OBJECT = (  # as Export-Clixml writes them: the type list once, then a reference to it
    '  <Obj RefId="{i}">\n    {types}\n'
    '    <Props>\n      <S N="Name">MSExchangeService{i}</S>\n      <S N="Status">Running</S>\n'
    '      <S N="StartType">Automatic</S>\n      <S N="MachineName">EXCH01</S>\n    </Props>\n  </Obj>\n'
)
_READ = (
    "import resource, sys\nfrom pathlib import Path\nfrom analyzer.readers.clixml import ClixmlReader\n"
    "count = sum(1 for _ in ClixmlReader(Path(sys.argv[1])))\n"
    "print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def _export(path: Path, objects: int) -> Path:
    with path.open("w", encoding="utf-8") as sink:
        sink.write('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\n')
        for i in range(objects):
            sink.write(_OBJECT.format(i=i, types=_TYPES if i == 0 else '<TNRef RefId="0" />'))
        sink.write("</Objs>\n")
    return path


def _peak_mb(path: Path) -> tuple[int, float]:
    done = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True, text=True, timeout=300,
                          check=True)  # fmt: skip
    count, peak_kb = done.stdout.split()
    return int(count), int(peak_kb) / 1024


def test_reading_five_times_the_objects_needs_no_more_memory(tmp_path: Path) -> None:
    small = _peak_mb(_export(tmp_path / "20k.xml", 20_000))
    large = _peak_mb(_export(tmp_path / "100k.xml", 100_000))
    assert (small[0], large[0]) == (20_000, 100_000)
    # Kept records would cost ~1 KB each: 80 MB more for the larger file. Streaming keeps the two within noise.
    assert large[1] - small[1] < 20, (small, large)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0  # the children were measured
