"""The workspace: a git (or plain) folder with a ``.dvc/`` directory and tracked outputs.

Glossary:
    repo      the folder holding ``.dvc/``; its root is where paths are relative to
    pointer   a ``.dvc`` file: YAML listing one or more outputs with their oids
    output    a tracked file or directory named by a pointer (``path`` is relative to the pointer)
    state     the stat cache: (inode, mtime, size) -> oid, so unchanged files are never re-hashed
    scan      walking an output on disk and naming its content, using the state
    lock      the repo-wide lock that serializes writers (``.dvc/tmp/lock``, shared with DVC)
"""
