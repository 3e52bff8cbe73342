"""exaudit: offline analyzer for Microsoft Exchange configuration exports."""

# Written here, not read back with importlib.metadata: that import costs ~20 ms of every run's start-up, and a
# source tree that was never installed knows its version too. pyproject.toml takes it from here.
__version__ = "0.1.0"
