"""Backups of a lab: snapshots on a target and the rules that decide which ones are kept.

Glossary:

* snapshot: one backup run's record (id, time with its UTC offset, host, paths, tags).
* policy: keep-last/hourly/daily/weekly/monthly/yearly counts, keep-within a duration, keep-tag
  sets; restic's ``forget`` semantics (``retention.py``).
* group: snapshots judged together (by host and paths unless told otherwise); a policy applies to
  each group on its own.
* plan: for every snapshot of every group, keep (with reasons) or remove; nothing is deleted
  by computing it.
"""
