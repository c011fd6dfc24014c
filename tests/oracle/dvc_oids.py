"""Oracle: answers with the object ids the real dvc (through ``dvc_data``) computes.

Run it with the interpreter of the dvc virtual environment; it reads one JSON request per line on
stdin and writes one JSON answer per line on stdout, until stdin closes.

Requests::

    {"op": "build", "path": "/abs/path", "algo": "md5" | "md5-dos2unix"}
        a file or a directory, hashed the way ``dvc add`` does (dvc_data.hashfile.build.build);
        answer: {"oid", "is_dir", "entries": [[relpath, oid], ...], "manifest": "<.dir text>"}
    {"op": "file", "path": "/abs/path", "algo": ...}
        one file through dvc_data.hashfile.hash.file_md5; answer: {"oid"}
    {"op": "tree", "entries": [[relpath, oid], ...]}
        a manifest built in memory (dvc_data's Tree.from_list + digest); answer: {"oid", "manifest"}
    {"op": "ping"}

Any failure is answered with {"error": "<type>: <message>"}; the process keeps serving.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback


def main() -> int:
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_data.hashfile.hash import file_md5
    from dvc_data.hashfile.tree import Tree
    from dvc_objects.fs.local import LocalFileSystem

    fs = LocalFileSystem()
    scratch = tempfile.TemporaryDirectory(prefix="dvc-oracle-")
    odbs: dict[str, HashFileDB] = {}

    def odb_for(algo: str) -> HashFileDB:
        if algo not in odbs:
            odbs[algo] = HashFileDB(fs, f"{scratch.name}/{algo}", hash_name=algo)
        return odbs[algo]

    def answer(req: dict) -> dict:
        op = req.get("op")
        if op == "ping":
            return {"ok": True}
        if op == "file":
            algo = req.get("algo", "md5")
            return {"oid": file_md5(req["path"], fs, name=algo)}
        if op == "build":
            algo = req.get("algo", "md5")
            _, _, obj = build(odb_for(algo), req["path"], fs, algo, dry_run=True)
            oid = obj.hash_info.value
            if isinstance(obj, Tree):
                entries = [["/".join(key), hi.value] for key, _, hi in obj]
                entries.sort()
                return {
                    "oid": oid,
                    "is_dir": True,
                    "entries": entries,
                    "manifest": obj.as_bytes().decode("utf-8"),
                }
            return {"oid": oid, "is_dir": False}
        if op == "tree":
            tree = Tree.from_list(
                [{"md5": oid, "relpath": rel} for rel, oid in req["entries"]], hash_name="md5"
            )
            tree.digest()
            return {"oid": tree.hash_info.value, "manifest": tree.as_bytes().decode("utf-8")}
        raise ValueError(f"unknown op {op!r}")

    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                out = answer(json.loads(line))
            except Exception as exc:  # report, keep serving
                out = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()
    finally:
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
