"""Oracle: the dvc.lock text the real dvc writes, through its own YAML serializer.

Run it with the interpreter of the dvc virtual environment; it reads one JSON request per line on
stdin and writes one JSON answer per line on stdout, until stdin closes.

Requests (mappings keep their order, as dvc's ``OrderedDict`` lock entries do)::

    {"op": "dump", "data": {...}}
        the text dvc writes for a lock document it builds from scratch (``dumps_yaml``);
        answer: {"text"}
    {"op": "update", "text": "<dvc.lock>", "stages": {name: entry, ...}}
        what ``Lockfile.dump_stages`` writes over an existing file: parsed for update (ruamel's
        round-trip loader), each stage entry replaced or appended, dumped again; answer: {"text"}
    {"op": "ping"}

Any failure is answered with {"error": "<type>: <message>"}; the process keeps serving.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections import OrderedDict


def main() -> int:
    from dvc.utils.serialize._yaml import dumps_yaml, parse_yaml_for_update

    for line in sys.stdin:
        try:
            req = json.loads(line, object_pairs_hook=OrderedDict)
            op = req["op"]
            if op == "ping":
                answer: dict[str, object] = {"ok": True}
            elif op == "dump":
                answer = {"text": dumps_yaml(req["data"])}
            elif op == "update":
                data = parse_yaml_for_update(req["text"], "dvc.lock")
                if not data:
                    data.update({"schema": "2.0"})
                data["stages"] = data.get("stages", {})
                data["stages"].update(req["stages"])
                answer = {"text": dumps_yaml(data)}
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
