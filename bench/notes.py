"""What each tool does in each timed row: the checks it performs and the cache state it runs in.

A ratio means little without this: a tool that skips a check is not faster, it does less. These
describe the code at the commit the results name (see docs/benchmarks.md's header); when a
tool's behaviour changes, the note changes with it.
"""

from __future__ import annotations

COLD = "page, dentry and inode caches dropped before the command (cold), when the machine allows it"
WARM = "page cache kept (warm): the previous command's reads are still cached"

# op -> (labvault, dvc, cache state)
CORE: dict[str, tuple[str, str, str]] = {
    "add": (
        "walks the target, reads and md5s every byte of every file, writes each new object into "
        "the cache (temp name + rename, read-only), writes the `.dir` manifest and the pointer, "
        "records every file in its stat cache",
        "the same work: hashes every byte, copies each object into its cache, manifest, pointer, "
        "its state database",
        COLD,
    ),
    "add_warm": (
        "as `add`, on a file read just before (as right after a download)",
        "as `add`",
        "page cache holding the file (warm); the file's dirty pages written out before timing",
    ),
    "status_noop": (
        "lists and stats every file of each output and compares inode, mtime and size with its "
        "stat-cache record (filled by the add just before: a warm index); reads no file content; "
        "does not look into the cache for the objects",
        "lists and stats every file, looks each up in its state database (SQLite, filled by the add "
        "just before), rebuilds the folder's tree to compare its hash with the pointer's, and "
        "checks the cache for the objects",
        COLD,
    ),
    "status_noop_warm": ("as `status`, nothing changed", "as `status`, nothing changed", WARM),
    "status_changed": (
        "as the no-op status; the one changed file has a new mtime, so it is read and hashed; "
        "reports the output modified (checked by the benchmark)",
        "as its no-op status, plus hashing the changed file; reports the output modified",
        COLD,
    ),
    "readd": (
        "stats every file, re-reads and stores only the changed one, writes the new manifest and "
        "pointer (the benchmark checks the pointer's oid)",
        "the same, with its state database; writes the new manifest and pointer",
        COLD,
    ),
    "checkout": (
        "plans from the pointer and the manifest (the workspace folder is gone, so nothing to "
        "compare), copies every object into the workspace (temp name + rename), records the "
        "written files in the stat cache; the benchmark then compares the md5 of every restored "
        "file with the source's",
        "the same result by its own copy (`reflink,copy`: a copy on ext4)",
        COLD,
    ),
}

REMOTES: dict[str, tuple[str, str, str]] = {
    "push": (
        "finds which objects the remote lacks (one query per object, or a listing when cheaper), "
        "copies each (temp name + rename), manifest last; the benchmark counts the remote's "
        "objects afterwards",
        "the same (its own existence checks and copies)",
        COLD,
    ),
    "push_noop": (
        "asks the remote about every object (no index of remote contents: one stat per object on a "
        "folder remote, plus one stat per object in the cache, sizes compared) and finds nothing "
        "missing or of the wrong size; sends nothing (the benchmark checks the remote is unchanged)",
        "queries the remote for every object's existence; sends nothing",
        COLD,
    ),
    "pull": (
        "in a fresh clone (no stat cache: cold indexes): downloads every object, "
        "md5s every byte received before it enters the cache, then checks out; the benchmark "
        "compares every restored byte with the source",
        "downloads every object without hashing it (trusts the remote), then checks out",
        COLD,
    ),
    "push_one": (
        "after one file changed and was re-added: sends that file's object and the new manifest",
        "the same objects, after its existence queries",
        COLD,
    ),
    "s3_push": (
        "S3 (moto through a counting proxy): existence checks, then one PUT per missing object",
        "the same protocol, its own request pattern",
        "server in memory; client side as the local rows",
    ),
    "s3_pull": (
        "one GET per object, each hashed from the file just written before it enters the cache; "
        "every restored byte checked by the benchmark",
        "one GET per object, not hashed",
        "server in memory; client side as the local rows",
    ),
}

PIPELINES: dict[str, tuple[str, str, str]] = {
    "status_noop": (
        "parses dvc.yaml and dvc.lock (or takes them from its parsed-document cache), stats every "
        "dependency and output file against its stat cache; runs nothing",
        "parses both files, stats every file against its state database, computes the folders' "
        "hashes to compare with dvc.lock; runs nothing",
        COLD,
    ),
    "repro_noop": (
        "as its no-op status, then decides that no stage must run; the benchmark checks dvc.lock "
        "and every output untouched",
        "as its no-op status, then skips every stage; checked the same way",
        COLD,
    ),
    "status_noop_warm": ("as above", "as above", WARM),
    "repro_noop_warm": ("as above", "as above", WARM),
    "repro_j1": ("runs every stage (`-f`), one at a time", "-", COLD),
    "repro_j2": ("runs every stage (`-f`), two at a time", "-", COLD),
}


def table(notes: dict[str, tuple[str, str, str]], titles: dict[str, str], ops: list[str]) -> list[str]:
    """A Markdown table: for each row shown, what labvault and dvc do and in which cache state."""
    rows = [op for op in ops if op in notes]
    if not rows:
        return []
    out = [
        "What each tool does in these rows:",
        "",
        "| row | labvault | dvc | caches |",
        "|---|---|---|---|",
    ]
    for op in rows:
        lv, dv, caches = notes[op]
        out.append(f"| {titles.get(op, op)} | {lv} | {dv} | {caches} |")
    return out
