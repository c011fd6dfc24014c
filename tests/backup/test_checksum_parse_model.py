"""Property test: any checksum file made of tricky lines is read exactly as `md5sum -c` reads it
(same result lines, same warnings, same exit code), checked against the real md5sum."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.cli.main import cli, load_commands
from labvault.errors import LabvaultError

MD5SUM = shutil.which("md5sum")
pytestmark = pytest.mark.skipif(MD5SUM is None, reason="GNU md5sum (coreutils) is needed as the oracle")

FILES = {"a": b"a", "a b": b"ab", " a": b"sp", "*a": b"st", "x\\y": b"bs", "(p)": b"par", "d": None}
GOOD = {"a": "0cc175b9c0f1b6a831c399e269772661", "a b": "187ef4436122d1cc2f40dc2b92f0eba0"}
WRONG = "0" * 32

names = st.sampled_from(["a", "a b", " a", "*a", "x\\\\y", "x\\y", "(p)", "d", "missing", "", "a\\q", "a\\n"])
digests = st.sampled_from([GOOD["a"], GOOD["a"].upper(), GOOD["a b"], WRONG, GOOD["a"][:31], GOOD["a"] + "0"])
seps = st.sampled_from(["  ", " *", " ", "\t", "\t*", "   ", " \t"])
lead = st.sampled_from(["", " ", "\\", " \\", "\t"])
plain = st.builds(lambda ld, d, s, n: f"{ld}{d}{s}{n}", lead, digests, seps, names)
tagged = st.builds(lambda ld, n, d, sp: f"{ld}MD5{sp}({n}){sp}={sp}{d}", lead, names, digests, st.sampled_from(["", " "]))
junk = st.sampled_from(["", "#", "# c", "   ", "garbage", "MD5", "md5 (a) = " + GOOD["a"], "SHA1 (a) = " + GOOD["a"]])
lines = st.lists(st.one_of(plain, tagged, junk), min_size=1, max_size=6)
endings = st.sampled_from(["\n", "\r\n"])


def _result(cwd: Path, text: bytes) -> tuple[int, bytes, list[bytes]]:
    (cwd / "s.md5").write_bytes(text)
    ref = subprocess.run([str(MD5SUM), "-c", "s.md5"], cwd=cwd, capture_output=True, timeout=30)
    warnings = [ln[ln.index(b"WARNING"):] for ln in ref.stderr.splitlines() if b"WARNING" in ln]
    none = b"no properly formatted" in ref.stderr
    return (2 if none else ref.returncode), ref.stdout, warnings


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines, endings, st.booleans())
def test_read_like_md5sum(body: list[str], ending: str, final_newline: bool) -> None:
    load_commands(["checksums"])
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for name, content in FILES.items():
            if content is None:
                (cwd / name).mkdir()
            else:
                (cwd / name).write_bytes(content)
        text = ending.join(body) + (ending if final_newline else "")
        want = _result(cwd, text.encode())
        with contextlib.chdir(cwd):
            got = CliRunner().invoke(cli, ["checksums", "check", "s.md5"])
        warnings = [ln[ln.index(b"WARNING"):] for ln in got.stderr_bytes.splitlines() if b"WARNING" in ln]
        code = got.exception.exit_code if isinstance(got.exception, LabvaultError) else got.exit_code
        assert (code, got.stdout_bytes, warnings) == want, (text, got.stderr)


usual = st.builds(lambda d, b, n: f"{d}{' *' if b else '  '}{n}", digests, st.booleans(),
                  st.text(st.sampled_from("ab \t*\\()#é\r"), min_size=0, max_size=6))
any_line = st.one_of(usual, usual, plain, tagged, junk)


@settings(max_examples=400, deadline=None)
@given(st.lists(any_line, min_size=1, max_size=8), endings, st.booleans())
def test_the_shortcut_for_usual_lines_reads_what_the_general_parser_reads(body: list[str], ending: str,
                                                                         final_newline: bool) -> None:
    """parse() cuts files of nothing but `HASH  NAME` lines directly; every file reads the same
    through it as through coreutils' rules line by line (parse_general)."""
    from labvault.core.checksum_format import _PLAIN, parse, parse_general

    data = (ending.join(body) + (ending if final_newline else "")).encode("utf-8", "surrogateescape")
    assert parse(data) == parse_general(data)
    if ending == "\n" and final_newline and all(ln.startswith(GOOD["a"] + "  a") for ln in body):
        assert _PLAIN.fullmatch(data) is not None  # the shortcut is taken for such files
