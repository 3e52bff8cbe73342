"""exaudit: offline analyzer for Microsoft Exchange configuration exports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("exaudit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
