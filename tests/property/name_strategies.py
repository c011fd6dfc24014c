"""Hypothesis strategies shared by the property tests: awkward file names, trees and contents."""

from __future__ import annotations

from hypothesis import strategies as st

CHUNK = 1 << 20  # legacy md5-dos2unix hashes 1 MiB chunks
RESERVED = {".", "..", ".git", ".dvc", ".hg", ".dvcignore", ".gitignore"}

# Pieces chosen to make byte order, code point order, UTF-16 order and per-component order disagree,
# plus NFC/NFD twins, emoji (astral plane, surrogate pairs in JSON), CJK and shell/glob characters.
ATOMS = [
    "a",
    "b",
    "A",
    "B",
    "z",
    "0",
    "9",
    "-",
    ".",
    "_",
    " ",
    "~",
    "#",
    "!",
    "+",
    "=",
    ",",
    ";",
    "@",
    "%",
    "'",
    '"',
    "[",
    "]",
    "*",
    "?",
    "{",
    "}",
    "\\",
    ":",
    "\u00e9",
    "e\u0301",
    "\u00c9",
    "E\u0301",
    "\u00df",
    "\ufb00",
    "\u03a9",
    "\u2126",
    "\U0001f600",
    "\U0001f468\u200d\U0001f469",
    "\u4e2d\u6587",
    "\u6570\u636e",
    "\uac00",
    "\uff21",
    "\ufffd",
    "\u00a0",
    "\u200b",
    "\u202e",
]

name_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")


def _ok_name(n: str) -> bool:
    return n not in RESERVED and 0 < len(n.encode("utf-8")) <= 200


names = (
    st.lists(
        st.sampled_from(ATOMS) | st.text(name_chars, min_size=1, max_size=2), min_size=1, max_size=5
    )
    .map("".join)
    .filter(_ok_name)
)

# Names that differ only where the orderings disagree: 'a-b' < 'a.b' < 'a/b' < 'aB' < 'a b'? (no:
# ' ' sorts first). Both files and folders get these names.
SORT_TWINS = [
    "a",
    "a b",
    "a-b",
    "a.b",
    "a_b",
    "aB",
    "ab",
    "a0",
    "a~",
    "a\u00e9",
    "ae\u0301",
    "a\U0001f600",
    "a\uff21",
]

hex_oids = st.text("0123456789abcdef", min_size=32, max_size=32)


def _no_prefix_conflicts(paths: list[str]) -> bool:
    s = set(paths)
    for p in paths:
        head = p
        while "/" in head:
            head = head.rsplit("/", 1)[0]
            if head in s:
                return False
    return True


relpaths = st.lists(names | st.sampled_from(SORT_TWINS), min_size=1, max_size=4).map("/".join)

tree_entries = st.lists(
    st.tuples(relpaths, hex_oids), max_size=25, unique_by=lambda e: e[0]
).filter(lambda es: _no_prefix_conflicts([r for r, _ in es]))

# --- file contents -------------------------------------------------------------------------------
_PIECES = [
    b"line\r\n",
    b"\r\n",
    b"\r",
    b"\n",
    b"text ",
    b"\x00",
    b"\xff\xfe",
    b"\x80\x81\x82",
    "\u00e9\u20ac\U0001f600".encode(),
    b"\r\n\r\n",
    b"\t\f\b",
    b"\x1b[0m",
]
small_content = st.lists(
    st.binary(max_size=64)
    | st.tuples(st.sampled_from(_PIECES), st.integers(1, 700)).map(lambda t: t[0] * t[1]),
    max_size=6,
).map(b"".join)


def _filler(kind: int, nontext_per_10: int, n: int) -> bytes:
    if kind == 0:
        unit = b"abc\r\n"
    elif kind == 1:
        unit = b"\x80" * nontext_per_10 + b"x" * (10 - nontext_per_10)
    elif kind == 2:
        unit = b"ab\x00cd\r\n"
    else:
        unit = b"\r\n" * 5
    return (unit * (n // len(unit) + 1))[:n]


# Files around the 1 MiB chunk boundary: CRLF pairs split across chunks, the 512-byte text probe
# of the second chunk landing on text or binary, and the 30 % non-text threshold.
boundary_content = st.builds(
    lambda k1, r1, n1, k2, r2, n2: _filler(k1, r1, n1) + _filler(k2, r2, n2),
    st.integers(0, 3),
    st.integers(0, 10),
    st.integers(CHUNK - 600, CHUNK + 3),
    st.integers(0, 3),
    st.integers(0, 10),
    st.integers(0, 1200),
)


# --- whole folders -------------------------------------------------------------------------------
dir_components = names | st.sampled_from(SORT_TWINS)


@st.composite
def folder_specs(draw: st.DrawFn) -> dict[str, object]:
    """A folder to build on disk: files, empty folders and symlinks to files inside it."""
    file_paths = draw(
        st.lists(
            st.lists(dir_components, min_size=1, max_size=3).map("/".join), max_size=12, unique=True
        ).filter(_no_prefix_conflicts)
    )
    files = {p: draw(small_content) for p in file_paths}
    taken = set(file_paths)
    prefixes = {p.rsplit("/", i)[0] for p in file_paths for i in range(1, p.count("/") + 1)}

    def free(p: str) -> bool:
        if p in taken or p in prefixes:
            return False
        parts = p.split("/")
        return not any("/".join(parts[:i]) in taken for i in range(1, len(parts)))

    empty_dirs = [
        d
        for d in draw(
            st.lists(st.lists(dir_components, min_size=1, max_size=3).map("/".join), max_size=3)
        )
        if free(d)
    ]
    for d in empty_dirs:
        taken.add(d)
        prefixes.update(d.rsplit("/", i)[0] for i in range(1, d.count("/") + 1))
    links: dict[str, str] = {}
    if file_paths:
        for lp in draw(
            st.lists(st.lists(dir_components, min_size=1, max_size=2).map("/".join), max_size=3)
        ):
            if free(lp) and all(not d.startswith(lp + "/") for d in empty_dirs):
                links[lp] = draw(st.sampled_from(file_paths))
                taken.add(lp)
                prefixes.update(lp.rsplit("/", i)[0] for i in range(1, lp.count("/") + 1))
    return {"files": files, "empty_dirs": empty_dirs, "links": links}
