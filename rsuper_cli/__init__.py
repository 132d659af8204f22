"""The ``rsuper`` command line (top layer: may import every package)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rsuper")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
