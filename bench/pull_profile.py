"""Where a W1 pull's time goes: the pull against its two halves and against md5sum and cp.

A pull of one big file from a folder remote is a fetch (download, md5 of every byte received, the
object renamed into the cache once it matches) followed by a checkout (a copy into the workspace).
This times, in one run on one file, each with the page cache dropped first (when allowed):

* ``md5sum`` of the remote object, ``cp`` of it, and ``md5sum`` then ``cp`` in one command (the
  reference of the W1 pull floor);
* ``labvault pull`` into a fresh clone, and dvc's;
* ``labvault fetch`` into a fresh clone, then ``labvault checkout`` there without dropping the
  page cache in between (as inside a pull), with the dirty memory left by the fetch.

Every output is checked (md5 of what was restored). Results are printed, not published: this is
a profiling aid, run on a quiet machine, e.g. against two worktrees to compare a change.

    .venv/bin/python bench/pull_profile.py --size 512M --repeats 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from checks import check_md5sum_lines, check_restored, file_md5  # noqa: E402
from extra_common import fmt_s, fresh_dir  # noqa: E402
from measure import CachePolicy, run_timed, run_untimed  # noqa: E402
from run_all import parse_size  # noqa: E402
from tools import Tool, all_tools  # noqa: E402
from workloads import _write_random_file  # noqa: E402


def dirty_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Dirty:"):
            return int(line.split()[1])
    return -1


def setup(tool: Tool, top: Path, size: int, log: Path) -> tuple[Path, Path, dict[str, str]]:
    """A repo holding big.bin, pushed to a folder remote and committed; returns (repo, object, env)."""
    src = top / "src"
    src.mkdir(parents=True)
    env = tool.env(src)
    run_untimed(["git", "init", "-q"], src, log, env)
    run_untimed([str(tool.exe), "init"], src, log, env)
    for extra in tool.init_extra:
        run_untimed([str(tool.exe), *extra], src, log, env)
    _write_random_file(src / "big.bin", size, random.Random(size))
    run_untimed([str(tool.exe), "add", "big.bin"], src, log, env)
    run_untimed([str(tool.exe), "remote", "add", "-d", "local", str(top / "remote")], src, log, env)
    run_untimed([str(tool.exe), "push"], src, log, env)
    run_untimed(["git", "add", "-A"], src, log, env)
    run_untimed(["git", "commit", "-q", "-m", "data"], src, log, env)
    obj = next(p for p in (top / "remote").rglob("*") if p.is_file())
    return src, obj, env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=parse_size, default=512 << 20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--work", type=Path, default=BENCH / "work" / "pull-profile")
    p.add_argument("--no-drop-caches", action="store_true")
    a = p.parse_args(argv)
    caches = CachePolicy(want_drop=not a.no_drop_caches)
    tools = {n: t for n, t in all_tools().items() if t.available()}
    fresh_dir(a.work).mkdir(parents=True)
    log = a.work / "commands.log"
    times: dict[str, list[float]] = {}
    dirty: list[int] = []
    repos = {n: setup(t, a.work / n, a.size, log) for n, t in tools.items()}
    src, obj, _ = repos["labvault"]
    expect = {"": file_md5(src / "big.bin")}
    scratch = a.work / "scratch"
    print(f"{a.size / (1 << 20):.0f} MiB, page cache: {caches.describe()}", flush=True)

    def clone(name: str) -> tuple[Path, dict[str, str]]:
        repo = fresh_dir(a.work / name / "clone")
        run_untimed(["git", "clone", "-q", str(repos[name][0]), str(repo)], a.work, log)
        return repo, tools[name].env(repo)

    def timed(key: str, argv: list[str], cwd: Path, env: dict[str, str] | None, drop: bool = True) -> str:
        m = run_timed(argv, cwd, log, env, caches if drop else None)
        times.setdefault(key, []).append(m.seconds)
        return m.output

    for _ in range(a.repeats):
        fresh_dir(scratch).mkdir()
        out = timed("md5sum", ["md5sum", str(obj)], scratch, None)
        check_md5sum_lines(out.replace(str(obj), "./"), expect, "md5sum")
        timed("cp", ["cp", str(obj), str(scratch / "copy")], scratch, None)
        check_restored(scratch / "copy", expect, "cp")
        (scratch / "copy").unlink()
        cmd = f"md5sum '{obj}' > /dev/null && cp '{obj}' '{scratch / 'copy'}'"
        timed("md5sum + cp", ["bash", "-c", cmd], scratch, None)
        check_restored(scratch / "copy", expect, "md5sum + cp")
        for name, tool in tools.items():
            repo, env = clone(name)
            timed(f"{name} pull", [str(tool.exe), "pull"], repo, env)
            check_restored(repo / "big.bin", expect, f"{name} pull")
        repo, env = clone("labvault")
        exe = str(tools["labvault"].exe)
        timed("labvault fetch", [exe, "fetch"], repo, env)
        dirty.append(dirty_kib())
        timed("labvault checkout after it", [exe, "checkout"], repo, env, drop=False)
        check_restored(repo / "big.bin", expect, "labvault fetch + checkout")

    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"  {k:28} {fmt_s(v):>9}   ({', '.join(fmt_s(x) for x in times[k])})")
    ref = med["md5sum + cp"]
    print(f"  labvault pull / (md5sum + cp): {med['labvault pull'] / ref:.2f}x (floor 1.3x)")
    if "dvc pull" in med:
        print(f"  dvc pull / labvault pull: {med['dvc pull'] / med['labvault pull']:.2f}x (floor 1.2x)")
    print(f"  fetch / md5sum: {med['labvault fetch'] / med['md5sum']:.2f}x;  "
          f"checkout / cp: {med['labvault checkout after it'] / med['cp']:.2f}x;  "
          f"dirty memory after the fetch: {statistics.median(dirty) / 1024:.0f} MiB")
    fresh_dir(a.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
