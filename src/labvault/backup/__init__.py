"""Backups of a lab: snapshots on a target and the rules that decide which ones are kept.

Glossary:

* snapshot: one backup run's record (id, time with its UTC offset, host, paths, tags).
* policy: keep-last/hourly/daily/weekly/monthly/yearly counts, keep-within a duration, keep-tag
  sets; restic's ``forget`` semantics (``retention.py``).
* group: snapshots judged together (by host and paths unless told otherwise); a policy applies to
  each group on its own.
* plan: for every snapshot of every group, keep (with reasons) or remove; nothing is deleted
  by computing it.
* target: a folder or bucket prefix holding objects (``files/md5/XX/REST``, named by their md5)
  and snapshot files (``snapshots/<id>.json``); ``target.py``, its lock ``lock.py``.
* manifest: the object listing a snapshot's entries (relpath, type, mode, mtime, md5, size);
  ``manifest.py``.
* engine: what a backup tool offers (``engine.BackupEngine``: run, list, restore, forget, prune,
  check, drill); ``engine.OwnEngine`` is labvault's own.
* stat cache: per target, path -> (stat, md5) kept locally so unchanged files are not read
  (``statcache.py``).
"""
