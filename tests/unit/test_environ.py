"""environ.get_many against os.environ.get over random assignments and deletions (including values
that are not valid UTF-8), and its fallback when os.environ is not CPython's own mapping."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import environ

NAMES = ["LV_T_A", "LV_T_B", "LV_T_C", "HOME"]
values = st.one_of(st.none(), st.text(max_size=8).filter(lambda v: "\0" not in v),
                   st.just(os.fsdecode(b"caf\xe9")))  # undecodable bytes, kept as surrogates
steps = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_get_many_is_os_environ_get(monkeypatch: pytest.MonkeyPatch, sequence: list[tuple[str, str | None]]) -> None:
    names = environ.Names(*NAMES)
    for name, value in sequence:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
        assert environ.get_many(names) == tuple(os.environ.get(n) for n in NAMES)
        assert environ.get(environ.Names(name)) == os.environ.get(name)
    monkeypatch.undo()


def test_a_replaced_os_environ_is_read_through_get(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"LV_T_A": "plain dict"})
    assert environ.get_many(environ.Names("LV_T_A", "LV_T_B")) == ("plain dict", None)
