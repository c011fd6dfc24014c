"""Reading environment variables on paths that run on every ``labvault.open``.

``os.environ.get`` encodes the name and decodes the value on every call (about 0.6 us each); a read
of one tracked file consults about fifteen variables, so a loop of small reads paid more for them
than for the file's own ``open``. ``get_many`` reads the same mapping ``os.environ.get`` reads
(``os.environ._data``, the bytes kept by CPython's ``os._Environ``, updated by every assignment and
deletion through ``os.environ``) with the names encoded once, and decodes only the values that are
set. Nothing is copied or remembered: a change through ``os.environ`` is seen by the next call.
Where ``os.environ`` is not CPython's POSIX ``_Environ`` (replaced by a plain dict, or another
platform), it falls back to ``os.environ.get``. ``tests/unit/test_environ.py`` checks both against
``os.environ.get`` over random sequences of assignments and deletions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def _raw() -> Mapping[bytes, bytes] | None:
    env = os.environ
    if os.name != "posix" or type(env) is not os._Environ:
        return None
    data = getattr(env, "_data", None)
    return data if isinstance(data, dict) else None


class Names:
    """A fixed list of variable names, read together with :func:`get_many`."""

    __slots__ = ("encoded", "names")

    def __init__(self, *names: str) -> None:
        self.names = names
        self.encoded = tuple(os.fsencode(n) for n in names)


def get_many(names: Names) -> tuple[str | None, ...]:
    """``tuple(os.environ.get(n) for n in names.names)``, without decoding unset names."""
    data = _raw()
    if data is None:
        return tuple(map(os.environ.get, names.names))
    raw = tuple(map(data.get, names.encoded))
    if raw.count(None) == len(raw):
        return raw  # type: ignore[return-value]
    return tuple(v if v is None else os.fsdecode(v) for v in raw)


def get(name: Names) -> str | None:
    """The value of a one-name :class:`Names`, as ``os.environ.get``."""
    return get_many(name)[0]
