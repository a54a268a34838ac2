"""neuroadapt: an open laboratory for the neurological consequences of chronic heroin use.

The public API is what this module re-exports.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neuroadapt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
