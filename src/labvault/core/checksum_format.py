"""The text format of GNU ``md5sum`` checksum files, read and written exactly as coreutils 9 does.

Lines, as bytes (names are file-system bytes, decoded with ``os.fsdecode``)::

    HASH  NAME            text mode (what ``md5sum`` and labvault write)
    HASH *NAME            binary mode (read; the same bytes are hashed on POSIX)
    \\HASH  ESCAPED       a name holding a backslash, newline or carriage return: the line starts
                          with '\\' and the name has '\\\\', '\\n', '\\r' for them
    MD5 (NAME) = HASH     BSD tagged form (``md5sum --tag``; read)
    HASH NAME             BSD reversed form (``md5 -r``; read when no earlier line was text mode)

Reading follows coreutils' ``digest_check``: a line starting with '#' is a comment, an empty
line (after removing '\\n' and one '\\r') is skipped, leading blanks are skipped, the hash is 32 hex
digits of either case followed by a blank; anything else counts as an improperly formatted line.
Once a line in text/binary mode has been read, the reversed form is refused (and the reverse),
as coreutils does to keep a name with a leading space from being misread.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import NamedTuple

_HEX_DIGITS = b"0123456789abcdefABCDEF"
_BLANK = (0x20, 0x09)
DIGEST_LEN = 32


class ChecksumLine(NamedTuple):
    """One well-formed line: the expected md5 (lower case) and the file name (as written); a
    tuple, as a file may hold a million of them."""

    lineno: int
    md5: str
    name: str
    binary: bool


@dataclass(frozen=True)
class ParsedFile:
    lines: tuple[ChecksumLine, ...]
    improper: tuple[int, ...]  # line numbers of improperly formatted lines


def escape_name(name: bytes) -> bytes:
    return name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def needs_escape(name: bytes) -> bool:
    return b"\\" in name or b"\n" in name or b"\r" in name


def format_line(md5: str, name: str) -> bytes:
    """The text-mode line ``md5sum NAME`` prints, newline included."""
    raw = os.fsencode(name)
    if needs_escape(raw):
        return b"\\" + md5.encode() + b"  " + escape_name(raw) + b"\n"
    return md5.encode() + b"  " + raw + b"\n"


def display_name(name: str) -> str:
    """The name as ``md5sum -c`` shows it in a result line: escaped (with a leading '\\') only
    when it holds a newline."""
    if "\n" not in name:
        return name
    return "\\" + name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(raw: bytes) -> bytes | None:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C:  # backslash
            if i + 1 >= len(raw):
                return None
            nxt = raw[i + 1]
            if nxt == 0x5C:
                out.append(0x5C)
            elif nxt == 0x6E:  # n
                out.append(0x0A)
            elif nxt == 0x72:  # r
                out.append(0x0D)
            else:
                return None
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def _is_hex(digest: bytes) -> bool:
    return len(digest) == DIGEST_LEN and not digest.translate(None, _HEX_DIGITS)


class _Parser:
    def __init__(self) -> None:
        self.reversed: int = -1  # coreutils' bsd_reversed: -1 unknown, 0 text/binary, 1 reversed

    def split(self, s: bytes) -> tuple[bytes, bytes, bool] | None:
        """(digest, name, binary) or None for an improper line."""
        if (len(s) > DIGEST_LEN + 2 and s[DIGEST_LEN] == 0x20 and s[DIGEST_LEN + 1] in (0x20, 0x2A)
                and self.reversed != 1 and _is_hex(s[:DIGEST_LEN])):
            # the usual line, `HASH  NAME` or `HASH *NAME` (what the general path below makes of it)
            self.reversed = 0
            return s[:DIGEST_LEN], s[DIGEST_LEN + 2 :], s[DIGEST_LEN + 1] == 0x2A
        i = 0
        while i < len(s) and s[i] in _BLANK:
            i += 1
        escaped = i < len(s) and s[i] == 0x5C
        if escaped:
            i += 1
        if s.startswith(b"MD5", i):
            j = i + 3
            if j < len(s) and s[j] == 0x20:
                j += 1
            if j < len(s) and s[j] == 0x28:  # '('
                return self._tagged(s[j + 1 :], escaped)
        if len(s) - i < DIGEST_LEN + 2:
            return None
        digest = s[i : i + DIGEST_LEN]
        i += DIGEST_LEN
        if s[i] not in _BLANK or not _is_hex(digest):
            return None
        i += 1
        binary = False
        if len(s) - i == 1 or s[i] not in (0x20, 0x2A):
            if self.reversed == 0:
                return None
            self.reversed = 1
        elif self.reversed != 1:
            self.reversed = 0
            binary = s[i] == 0x2A
            i += 1
        name = s[i:]
        if escaped:
            unescaped = _unescape(name)
            if unescaped is None:
                return None
            name = unescaped
        return (digest, name, binary) if name else None

    @staticmethod
    def _tagged(s: bytes, escaped: bool) -> tuple[bytes, bytes, bool] | None:
        close = s.rfind(b")")
        if close < 0:
            return None
        name = s[:close]
        if escaped:
            unescaped = _unescape(name)
            if unescaped is None:
                return None
            name = unescaped
        rest = s[close + 1 :].lstrip(b" \t")
        if not rest.startswith(b"="):
            return None
        digest = rest[1:].lstrip(b" \t")
        if not _is_hex(digest):
            return None
        return digest, name, True


# A file of nothing but the usual lines (`HASH  NAME` or `HASH *NAME`, one newline after each, no
# carriage return anywhere, no line starting with a blank, '#', '\\' or "MD5"): what the general
# parser below makes of each such line is exactly its three fields, so they are cut out directly.
_PLAIN = re.compile(rb"(?:[0-9a-fA-F]{32} [ *][^\n]+\n)+")


def parse(data: bytes) -> ParsedFile:
    """Every line of a checksum file, as ``md5sum -c`` reads it."""
    if b"\r" not in data and _PLAIN.fullmatch(data) is not None:
        fsdecode = os.fsdecode
        return ParsedFile(tuple(
            ChecksumLine(n, raw[:DIGEST_LEN].decode("ascii").lower(), fsdecode(raw[DIGEST_LEN + 2:]),
                         raw[DIGEST_LEN + 1] == 0x2A)
            for n, raw in enumerate(data[:-1].split(b"\n"), start=1)), ())
    return parse_general(data)


def parse_general(data: bytes) -> ParsedFile:
    """:func:`parse` without its shortcut for files of usual lines: coreutils' rules, line by line."""
    parser = _Parser()
    lines: list[ChecksumLine] = []
    improper: list[int] = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if raw.startswith(b"#"):
            continue
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw:
            continue
        got = parser.split(raw)
        if got is None:
            improper.append(lineno)
            continue
        digest, name, binary = got
        lines.append(ChecksumLine(lineno, digest.decode("ascii").lower(), os.fsdecode(name), binary))
    return ParsedFile(tuple(lines), tuple(improper))
