"""labvault: data management for AI labs.

Versioned datasets and models in DVC's on-disk formats, built for speed and for never losing data.

The public Python API lives in :mod:`labvault.api`; every command-line command is a thin layer over
one function there.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
