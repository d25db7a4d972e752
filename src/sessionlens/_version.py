"""The one place the version is written (the package, ``--version``, records and the wheel)."""

__version__ = "0.1.0"
