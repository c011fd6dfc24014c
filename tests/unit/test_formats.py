"""Unit tests for the on-disk formats: hashing, manifests, pointers, config files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labvault.config import ConfigFile, split_key
from labvault.core.hashing import is_text_block, legacy_md5_bytes, md5_file
from labvault.core.tree import Tree, manifest_text
from labvault.errors import ConfigError, ManifestError, PointerError
from labvault.workspace.index import outputs_of
from labvault.workspace.pointer import Out, Pointer, parse_pointer, render_pointer


def test_empty_manifest_oid_is_md5_of_empty_list() -> None:
    assert Tree.from_pairs([]).to_bytes() == b"[]"
    assert Tree.from_pairs([]).oid() == hashlib.md5(b"[]").hexdigest() + ".dir"


def test_manifest_bytes_are_sorted_and_ascii_escaped() -> None:
    t = Tree.from_pairs([("b", "1" * 32), ("a/ü", "2" * 32), ("a-b", "3" * 32)])
    assert t.to_bytes() == (
        b'[{"md5": "33333333333333333333333333333333", "relpath": "a-b"}, '
        b'{"md5": "22222222222222222222222222222222", "relpath": "a/\\u00fc"}, '
        b'{"md5": "11111111111111111111111111111111", "relpath": "b"}]'
    )


def test_manifest_parse_round_trip_and_rejects() -> None:
    t = Tree.from_pairs([("x/y", "a" * 32), ("z", "b" * 32)])
    assert Tree.parse(t.to_bytes()) == t
    with pytest.raises(ManifestError):
        Tree.parse(b'[{"md5": "' + b"a" * 32 + b'", "relpath": "x"}, {"md5": "' + b"a" * 32 + b'", "relpath": "x/y"}]')
    with pytest.raises(ManifestError):
        Tree.parse(b"{not json")
    with pytest.raises(ManifestError):
        Tree.parse(b'[{"md5": "nothex", "relpath": "x"}]')


def _manifest(*rels: str) -> bytes:
    return ("[" + ", ".join(f'{{"md5": "{"a" * 32}", "relpath": "{r}"}}' for r in rels) + "]").encode()


@pytest.mark.parametrize(
    ("rels", "says"),
    [
        (("x", "y", "x"), "lists 'x' twice"),  # apart in the bytes, together once sorted
        (("a", "a-b", "a/c"), "lists 'a' both as a file and as a folder"),  # 'a-b' sorts between
        (("q/r/s", "q/r", "q0"), "lists 'q/r' both as a file and as a folder"),
    ],
)
def test_manifest_repeats_and_file_folder_clashes_are_refused(rels: tuple[str, ...], says: str) -> None:
    with pytest.raises(ManifestError, match=says):
        Tree.parse(_manifest(*rels))


def test_manifest_text_parses_as_its_bytes() -> None:
    data = Tree.from_pairs([("a/\u00fc", "b" * 32), ("z", "c" * 32)]).to_bytes()
    assert Tree.parse(manifest_text(data)) == Tree.parse(data)
    with pytest.raises(ManifestError, match="not valid JSON"):
        manifest_text(b'[{"md5": "\xff\xfe\xfd"}]')


def test_legacy_hash_converts_crlf_only_in_text(tmp_path: Path) -> None:
    text = b"a,b\r\n1,2\r\n"
    assert legacy_md5_bytes(text) == hashlib.md5(b"a,b\n1,2\n").hexdigest()
    binary = b"\x00\x01\r\n\x02"
    assert legacy_md5_bytes(binary) == hashlib.md5(binary).hexdigest()
    p = tmp_path / "f"
    p.write_bytes(text * 100_000)  # several 1 MiB chunks
    assert md5_file(p, legacy=True) == legacy_md5_bytes(text * 100_000)
    assert md5_file(p) == hashlib.md5(text * 100_000).hexdigest()
    assert is_text_block(b"")
    assert not is_text_block(b"ab\x00")


def test_pointer_renders_in_dvc_key_order() -> None:
    p = Pointer(Path("x.dvc"), (Out("x", "d41d8cd98f00b204e9800998ecf8427e", 0, None, True, extra={"desc": "hi"}),))
    assert render_pointer(p) == (
        "outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  size: 0\n  isexec: true\n  hash: md5\n  path: x\n"
        "  desc: hi\n"
    )


def test_pointer_quotes_oids_that_look_like_numbers() -> None:
    oid = "12345678901234567890123456789012"
    text = render_pointer(Pointer(Path("n.dvc"), (Out("n", oid, 1),)))
    assert parse_pointer(text, "n.dvc").outs[0].oid == oid


def test_legacy_pointer_stays_legacy() -> None:
    p = parse_pointer("outs:\n- md5: " + "a" * 32 + "\n  size: 3\n  path: f\n", "f.dvc")
    assert p.outs[0].legacy
    assert "hash:" not in render_pointer(p)


@pytest.mark.parametrize(
    "text",
    ["outs: 3\n", "- a\n", "outs:\n- size: 3\n", "outs:\n- md5: zz\n  path: f\n", "outs:\n- path: /etc/x\n",
     "outs:\n- md5: " + "a" * 32 + "\n  hash: sha256\n  path: f\n"],
)
def test_malformed_pointers_are_rejected(text: str) -> None:
    with pytest.raises(PointerError):
        parse_pointer(text, "bad.dvc")


@pytest.mark.parametrize(("folder", "path", "inside"), [
    ("sub", "../x", "x"), ("a/b", "../../x/y", "x/y"), ("", "./d/../f", "f"),
    ("", "../x", None), ("sub", "../../x", None), ("", "x/../../etc", None), ("sub", "..", None), ("", ".", None),
])
def test_an_output_path_is_judged_from_the_pointers_folder(folder: str, path: str, inside: str | None) -> None:
    """`../x` in a pointer of a sub-folder names a file of the repository, as dvc reads it; only
    where the path ends, seen from the repository's root, decides."""
    pointer = parse_pointer(f"outs:\n- path: {path}\n", f"{folder}/p.dvc" if folder else "p.dvc")
    pointer = Pointer(Path(folder) / "p.dvc", pointer.outs, pointer.extra, pointer.keys)
    if inside is None:
        with pytest.raises(PointerError, match="leaves the repository"):
            outputs_of(pointer, folder)
    else:
        assert [t.rel for t in outputs_of(pointer, folder)] == [inside]


def test_config_file_round_trip_in_dvc_dialect(tmp_path: Path) -> None:
    f = tmp_path / "config"
    f.write_text("[core]\n    remote = store\n    no_scm = True\n['remote \"store\"']\n    url = /mnt/ssd0/x\n")
    cfg = ConfigFile.load(f)
    assert cfg.sections == {"core": {"remote": "store", "no_scm": "True"}, 'remote "store"': {"url": "/mnt/ssd0/x"}}
    cfg.save()
    assert f.read_text() == "[core]\n    remote = store\n    no_scm = True\n['remote \"store\"']\n    url = /mnt/ssd0/x\n"


def test_config_keys() -> None:
    assert split_key("remote.s3.region") == ('remote "s3"', "region")
    assert split_key("cache.type") == ("cache", "type")
    for bad in ("nosection", "core.unknown", "weird.key", "remote.x"):
        with pytest.raises(ConfigError):
            split_key(bad)
