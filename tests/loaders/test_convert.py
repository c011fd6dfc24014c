"""labvault convert: round trips, bounded memory, bad input, and a versioned conversion stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from labvault import api
from labvault.loaders import StreamingDataset
from labvault.loaders.shards import INDEX, read_records


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w") as f:
        f.write("id,group,value,label\n")
        for i in range(rows):
            f.write(f"{i},g{i % 7},{i * 0.5},{'abc'[i % 3]}\n")


def test_csv_to_parquet_round_trip(tmp_path: Path) -> None:
    write_csv(tmp_path / "raw.csv", 10_000)
    r = api.convert(tmp_path / "raw.csv", "parquet", chunk=3000, block_size=64 << 10)
    assert r.output == str(tmp_path / "raw.parquet") and r.items == 10_000 and r.parts == 4
    table = pq.read_table(r.output)
    assert table.equals(pacsv.read_csv(tmp_path / "raw.csv"))
    assert pq.ParquetFile(r.output).metadata.num_row_groups == 4
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".lvtmp")]


def test_arrays_to_hdf5_chunked_per_sample_with_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    src = tmp_path / "arrays"
    expect = {}
    for cls in ("cat", "dog"):
        (src / cls).mkdir(parents=True)
        for i in range(5):
            a = rng.random((3, 4), dtype=np.float32)
            np.save(src / cls / f"{i}.npy", a)
            expect[f"{cls}/{i}.npy"] = a
    r = api.convert(src, "hdf5", tmp_path / "out.h5")
    assert r.items == 10
    with h5py.File(r.output) as f:
        assert f["data"].chunks == (1, 3, 4)
        names = [n.decode() for n in f["names"][:]]
        assert names == sorted(expect)
        for k, n in enumerate(names):
            assert np.array_equal(f["data"][k], expect[n])
        assert list(f["labels"][:]) == [0] * 5 + [1] * 5
        assert list(f["labels"].attrs["classes"]) == ["cat", "dog"]


def test_arrays_of_other_shapes_are_one_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "arrays"
    src.mkdir()
    np.save(src / "a.npy", np.zeros((2, 2)))
    np.save(src / "b.npy", np.zeros((3, 2)))
    with pytest.raises(Exception, match=r"b\.npy is float64\[3, 2\], unlike a\.npy"):
        api.convert(src, "hdf5", tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
    assert list(tmp_path.iterdir()) == [src]


def test_files_to_shards_round_trip_and_replace(tmp_path: Path) -> None:
    src = tmp_path / "files"
    (src / "sub").mkdir(parents=True)
    content = {f"sub/{i}.bin" if i % 2 else f"{i}.bin": bytes([i]) * (i * 100) for i in range(30)}
    for rel, data in content.items():
        (src / rel).write_bytes(data)
    out = tmp_path / "out.shards"
    out.mkdir()
    (out / "stale").write_text("old output")
    r = api.convert(src, "shards", out, shard_size=5000)
    assert r.items == 30 and r.parts > 3
    assert not (out / "stale").exists()
    index = json.loads((out / INDEX).read_text())
    got = {}
    for s in index["shards"]:
        got.update(read_records(str(out / s["name"]), s["name"]))
    assert got == content
    assert dict(StreamingDataset(str(out), cache_dir=tmp_path / "c")) == content


def _cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "labvault")
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    p = _cli(["convert", "missing.csv", "--to", "parquet"], tmp_path)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3\n")
    p = _cli(["convert", "bad.csv", "--to", "parquet"], tmp_path)
    assert p.returncode == 2 and "cannot be read as CSV" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.parquet").exists()
    p = _cli(["convert", "bad.csv", "--to", "shards", "--shard-size", "lots"], tmp_path)
    assert p.returncode == 2 and "not a size" in p.stderr


def _peak_rss_converting(csv: Path) -> int:
    # VmHWM, not ru_maxrss: the latter survives execve, so it would count the forking parent
    code = ("import sys; from labvault import api; "
            "api.convert(sys.argv[1], 'parquet', chunk=65536); "
            "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0])")
    p = subprocess.run([sys.executable, "-c", code, str(csv)], capture_output=True, text=True, check=True)
    return int(p.stdout.strip()) * 1024


def test_convert_peak_memory_is_bounded(tmp_path: Path) -> None:
    """Peak RSS converting a 227 MB CSV is below its size and within 64 MiB of converting a tenth of it."""
    line_block = "".join(f"{i},g{i % 7},{i * 0.5},label{i % 13}\n" for i in range(100_000))
    for name, repeats in (("small.csv", 10), ("big.csv", 100)):
        with open(tmp_path / name, "w") as f:
            f.write("id,group,value,label\n")
            for _ in range(repeats):
                f.write(line_block)
    size = (tmp_path / "big.csv").stat().st_size
    small, big = _peak_rss_converting(tmp_path / "small.csv"), _peak_rss_converting(tmp_path / "big.csv")
    assert size > 200 << 20
    assert big < size and big - small < 64 << 20, f"peak RSS {big >> 20} MiB (small: {small >> 20}) for {size >> 20} MiB"
    assert pq.ParquetFile(tmp_path / "big.parquet").metadata.num_rows == 10_000_000


def test_convert_as_a_versioned_dvc_stage(tmp_path: Path, lv: Any, git_repo: Path, dvc: Any) -> None:
    # the stage's command runs through the shell: labvault must be on its PATH
    lv.env["PATH"] = f"{Path(sys.executable).parent}:{lv.env.get('PATH', '')}"
    write_csv(git_repo / "raw.csv", 2000)
    lv("init")
    (git_repo / "dvc.yaml").write_text(
        "stages:\n  table:\n    cmd: labvault convert raw.csv --to parquet -o table.parquet\n"
        "    deps:\n    - raw.csv\n    outs:\n    - table.parquet\n")
    lv("repro")
    lock = (git_repo / "dvc.lock").read_text()
    assert "table.parquet" in lock and "raw.csv" in lock
    assert pq.read_table(git_repo / "table.parquet").num_rows == 2000
    assert "up to date" in dvc("status").stdout.lower() or "up to date" in lv("status").stdout.lower()
    write_csv(git_repo / "raw.csv", 3000)
    lv("repro")
    assert pq.read_table(git_repo / "table.parquet").num_rows == 3000
    assert "Data and pipelines are up to date" in dvc("status").stdout
