"""``dump_dvcfile`` gives the bytes of ruamel (DVC's own writer) for every document: through
PyYAML's C dumper where the two agree, through ruamel where they would not (a line over 80
characters, a string that one YAML version reads as a number or a boolean and the other not)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.core.yaml12 import WIDTH, dump_dvcfile, dump_yaml

_segment = st.one_of(
    st.text(alphabet="abcXYZ019_.- :eEoxOyYnN+", min_size=1, max_size=30).filter(lambda s: s.strip() == s and s),
    st.sampled_from(["09", "1e5", "0o17", "yes", "on", "Yes", "NO", "1:20", "2024-01-01", "null", "~", "true",
                     "0x1F", "1_000", ".5", "<<", "=", "inf", "0b101"]),
)
_path = st.lists(_segment, min_size=1, max_size=8).map("/".join)


def _doc(dep_path: str, out_path: str, size: int) -> dict[str, object]:
    return {
        "md5": "0f73e4cad20754a1eec8c0884f93c799",
        "frozen": True,
        "deps": [{"md5": "0f73e4cad20754a1eec8c0884f93c799.dir", "size": size, "nfiles": 3, "hash": "md5",
                  "path": dep_path}],
        "outs": [{"md5": "b1946ac92492d2347c6235b4d2611184", "size": size, "hash": "md5", "path": out_path}],
    }


@settings(max_examples=400, deadline=None)
@given(_path, _path, st.integers(min_value=0, max_value=1 << 40))
def test_same_bytes_as_ruamel(dep_path: str, out_path: str, size: int) -> None:
    for doc in (_doc("/mnt/" + dep_path, out_path, size), _doc(dep_path, out_path, size)):
        assert dump_dvcfile(doc) == dump_yaml(doc)


def test_a_long_path_is_folded_as_dvc_folds_it() -> None:
    doc = _doc("/data/" + "x" * 100 + "/labels.csv", "labels.csv", 15)
    text = dump_dvcfile(doc)
    assert text == dump_yaml(doc)
    assert "  path:\n    /data/x" in text or "  path: \n    /data/x" in text  # ruamel puts it on its own line
    assert max(len(line) for line in text.splitlines()) > WIDTH  # an unbreakable scalar stays whole
