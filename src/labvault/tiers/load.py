"""Finding and reading the lab config: one YAML file, checked key by key.

Where it is found, first match wins: ``--lab FILE``, ``LABVAULT_LAB``, the user's
``$XDG_CONFIG_HOME/labvault/lab.yaml`` (``~/.config``), the system's
``$LABVAULT_SYSTEM_CONFIG_DIR/lab.yaml`` (default ``/etc/labvault``). A bad value is one
:class:`ConfigError` naming the file and the key path: ``lab.yaml: tiers.warm.price_per_gb_month:
expected a number, got 'cheap'``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labvault import environ
from labvault.errors import ConfigError
from labvault.remotes.classes import SCHEMES, canonical_class, known_classes
from labvault.tiers.lab import (
    AREAS,
    BackupPolicy,
    LabConfig,
    Pins,
    Promotion,
    Retention,
    Rule,
    Tier,
    default_min_days,
)

UNIT_KINDS = ("dataset", "model", "experiment", "checkpoint")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)


_LAB_ENV = environ.Names("XDG_CONFIG_HOME", "LABVAULT_SYSTEM_CONFIG_DIR", "LABVAULT_LAB", "HOME")


def _default_lab_files(env: tuple[str | None, ...] | None = None) -> tuple[str, str]:
    """The user's and the system's lab config paths, as plain strings (looked up on every read)."""
    xdg, system, _, home = env if env is not None else environ.get_many(_LAB_ENV)
    # as os.path.expanduser("~"): $HOME without a trailing slash ("/" when empty), else the passwd entry
    user = (home.rstrip("/") or "/") if home is not None else os.path.expanduser("~")
    base = xdg or os.path.join(user, ".config")
    return os.path.join(base, "labvault", "lab.yaml"), os.path.join(system or "/etc/labvault", "lab.yaml")


def user_lab_file() -> Path:
    return Path(_default_lab_files()[0])


def system_lab_file() -> Path:
    return Path(_default_lab_files()[1])


def find_lab_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The lab config in effect, or None when there is none. A named file must exist."""
    env = environ.get_many(_LAB_ENV)
    for named, what in ((explicit, "--lab"), (env[2] or None, "LABVAULT_LAB")):
        if named is not None:
            path = Path(named).expanduser()
            if not path.is_file():
                raise ConfigError(f"lab config {path} (from {what}) does not exist",
                                  "create one with `labvault lab init --root DIR`, or fix the path")
            return path
    for name in _default_lab_files(env):
        try:
            if stat.S_ISREG(os.stat(name).st_mode):
                return Path(name)
        except PermissionError:
            raise ConfigError(f"cannot look for the lab config {name}: permission denied",
                              "make its folder readable, or name a lab config with --lab or LABVAULT_LAB") from None
        except OSError:
            continue  # absent (or a dangling link, as Path.is_file sees it)
    return None


def load_lab(explicit: str | os.PathLike[str] | None = None) -> LabConfig:
    """The lab config in effect; ConfigError (exit 2) when there is none or it is malformed."""
    path = find_lab_file(explicit)
    if path is None:
        raise ConfigError(
            "no lab config found",
            f"create one with `labvault lab init --root DIR`, or pass --lab FILE (looked in "
            f"LABVAULT_LAB, {user_lab_file()}, {system_lab_file()})",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the lab config {path}: {e}") from None
    return parse_lab(text, path)


def parse_lab(text: str, path: Path | None = None) -> LabConfig:
    import yaml

    where = str(path) if path is not None else "lab config"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML ({e})".replace("\n", " ")) from None
    return _Reader(where).lab(data if data is not None else {}, path)


def parse_size(value: object) -> int | None:
    """Bytes from ``1234``, ``"500GB"``, ``"2 TiB"``; None when it is not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    m = _SIZE_RE.match(value)
    if m is None:
        return None
    unit = (m.group(2) or "").lower()
    letter = unit[:1] if unit[:1] not in ("", "b") else ""
    if not letter and "i" in unit:
        return None
    base = 1024 if "i" in unit else 1000
    return int(float(m.group(1)) * base ** " kmgtp".index(letter)) if letter else int(float(m.group(1)))

class _Reader:
    """Checks values one key at a time, naming the key path in its one-line errors."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where}: {key}: {problem}", hint)

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key or "(top level)", f"expected a mapping, got {_shown(value)}")
        for k in value:
            if not isinstance(k, str) or k not in allowed:
                raise self.fail(_join(key, str(k)), "unknown key", f"the keys here are {', '.join(allowed)}")
        return value

    def number(self, value: Any, key: str, low: float = 0.0, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {_shown(value)}")
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise self.fail(key, f"expected a number {bound}, got {value!r}")
        return float(value)

    def integer(self, value: Any, key: str, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"expected a whole number of at least {low}, got {_shown(value)}")
        return value

    def size(self, value: Any, key: str) -> int:
        n = parse_size(value)
        if n is None:
            raise self.fail(key, f"expected a size (bytes, or like '500GB', '2TiB'), got {_shown(value)}")
        return n

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_shown(value)}")
        return value.strip()

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_shown(value)}")
        return value

    def strings(self, value: Any, key: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise self.fail(key, f"expected a list of strings, got {_shown(value)}")
        out = tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(items))
        for i, v in enumerate(out):
            if choices is not None and v not in choices:
                raise self.fail(f"{key}[{i}]", f"unknown value {v!r}", f"use one of {', '.join(choices)}")
        return out

    def lab(self, data: Any, path: Path | None) -> LabConfig:
        top = self.mapping(data, "", ("version", "tiers", "lifecycle", "min_copies", "symlink_old_path",
                                      "catalog_url", "backups"))
        if top.get("version", 1) != 1:
            raise self.fail("version", f"unsupported version {_shown(top.get('version'))}", "this labvault reads 1")
        raw_tiers = self.mapping(top.get("tiers", {}), "tiers", tuple(str(k) for k in top.get("tiers") or {}))
        tiers = tuple(self.tier(str(name), value) for name, value in raw_tiers.items())
        if not tiers:
            raise self.fail("tiers", "no tiers defined", "name at least one, e.g. `hot: {path: /mnt/nvme0}`")
        names = tuple(t.name for t in tiers)
        life = self.mapping(top.get("lifecycle", {}) or {}, "lifecycle", ("rules", "pins", "promotion"))
        rules_raw = life.get("rules", []) or []
        if not isinstance(rules_raw, list):
            raise self.fail("lifecycle.rules", f"expected a list of rules, got {_shown(rules_raw)}")
        rules = tuple(self.rule(r, f"lifecycle.rules[{i}]", names) for i, r in enumerate(rules_raw))
        catalog_url = top.get("catalog_url")
        return LabConfig(
            source=path,
            tiers=tiers,
            rules=rules,
            pins=self.pins(life.get("pins", {}) or {}),
            promotion=self.promotion(life.get("promotion", {}) or {}, names),
            min_copies=self.integer(top.get("min_copies", 1), "min_copies", 1),
            symlink_old_path=self.boolean(top.get("symlink_old_path", True), "symlink_old_path"),
            catalog_url=self.text(catalog_url, "catalog_url") if catalog_url is not None else None,
            backups=self.backups(top.get("backups", []) or []),
        )

    def backups(self, value: Any) -> tuple[BackupPolicy, ...]:
        if not isinstance(value, list):
            raise self.fail("backups", f"expected a list of backup policies, got {_shown(value)}")
        out = tuple(self.backup(v, f"backups[{i}]") for i, v in enumerate(value))
        seen: set[str] = set()
        for i, b in enumerate(out):
            if b.name in seen:
                raise self.fail(f"backups[{i}].name", f"policy {b.name!r} is defined twice", "give each policy its own name")
            seen.add(b.name)
        return out

    def backup(self, value: Any, key: str) -> BackupPolicy:
        d = self.mapping(value, key, ("name", "sources", "target", "retention", "schedule", "tags", "options",
                                      "catalog", "password_file", "password_command",
                                      "storage_class", "price_per_gb_month"))
        catalog = self.boolean(d["catalog"], f"{key}.catalog") if "catalog" in d else False
        for k in ("name", "target") if catalog else ("name", "sources", "target"):
            if k not in d:
                raise self.fail(f"{key}.{k}", "missing", "a policy needs a name, sources and a target")
        name = self.text(d["name"], f"{key}.name")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            raise self.fail(f"{key}.name", "a policy name is letters, digits, '_', '.', '-' (at most 64)")
        sources = self.strings(d["sources"], f"{key}.sources") if "sources" in d else ()
        if not sources and not catalog:
            raise self.fail(f"{key}.sources", "no sources given", "list folders or files (absolute paths) or unit:GLOB")
        bases: dict[str, int] = {"catalog": -1} if catalog else {}
        for i, src in enumerate(sources):
            if src.startswith("unit:"):
                if not src[5:].strip():
                    raise self.fail(f"{key}.sources[{i}]", "unit: needs a name or glob, e.g. unit:imagenet*")
                continue
            if not os.path.isabs(os.path.expanduser(src)):
                raise self.fail(f"{key}.sources[{i}]", f"expected an absolute path or unit:GLOB, got {src!r}")
            base = os.path.basename(os.path.normpath(os.path.expanduser(src)))
            if not base or base in (".", ".."):
                raise self.fail(f"{key}.sources[{i}]", f"{src!r} has no last component to name it by in a snapshot")
            if base in bases:
                other = "the catalog database (catalog: true)" if bases[base] < 0 else f"sources[{bases[base]}]"
                raise self.fail(f"{key}.sources[{i}]", f"{src!r} has the same last component as {other}",
                                "a snapshot names each source by its last component: rename one or back it up "
                                "in another policy")
            bases[base] = i
        target = self.text(d["target"], f"{key}.target")
        secrets = {k: self.text(d[k], f"{key}.{k}") for k in ("password_file", "password_command") if d.get(k)}
        if target.startswith("restic:"):
            if not target[len("restic:"):].strip():
                raise self.fail(f"{key}.target", "restic: names no repository",
                                "write restic:/path/to/repo or restic:s3:https://host/bucket/prefix")
            if catalog:
                raise self.fail(f"{key}.catalog", "catalog: true works with labvault's own targets, not restic:",
                                "back up the catalog in a policy whose target is a folder or bucket")
            if len(secrets) != 1:
                raise self.fail(key, "a restic target needs exactly one of password_file and password_command",
                                "add `password_file: /path/to/file` (or `password_command: CMD`) to the policy")
        elif secrets:
            raise self.fail(f"{key}.{next(iter(secrets))}", "only a restic: target takes a password",
                            "remove it, or make the target restic:PATH")
        elif "://" in target:
            if target.split("://", 1)[0] not in ("s3", "gs", "azure", "file"):
                raise self.fail(f"{key}.target", f"expected a folder or an s3://, gs://, azure:// URL, got {target!r}")
        elif not os.path.isabs(os.path.expanduser(target)):
            raise self.fail(f"{key}.target", f"expected an absolute folder path or a URL, got {target!r}")
        sclass = self.text(d["storage_class"], f"{key}.storage_class") if "storage_class" in d else None
        if sclass is not None:
            scheme = target.split("://", 1)[0] if "://" in target else ""
            if scheme not in SCHEMES:
                raise self.fail(f"{key}.storage_class", "a storage class needs an s3://, gs:// or azure:// target",
                                "remove it, or back up to a bucket")
            if canonical_class(sclass, scheme) not in known_classes():
                raise self.fail(f"{key}.storage_class", f"unknown storage class {sclass!r}",
                                "use e.g. STANDARD_IA, GLACIER, DEEP_ARCHIVE, NEARLINE, COLDLINE, ARCHIVE, Cool")
        schedule = self.text(d["schedule"], f"{key}.schedule") if d.get("schedule") is not None else None
        if schedule is not None and not _cron_ok(schedule):
            raise self.fail(f"{key}.schedule", f"not a cron expression: {schedule!r}",
                            "give five fields (minute hour day month weekday), e.g. '0 2 * * *', or @daily")
        opts_raw = d.get("options", {}) or {}
        opts = self.mapping(opts_raw, f"{key}.options", tuple(str(k) for k in opts_raw) if isinstance(opts_raw, dict) else ())
        options = tuple((str(k), self.text(str(v) if isinstance(v, (int, float)) else v, f"{key}.options.{k}"))
                        for k, v in opts.items())
        return BackupPolicy(
            name=name,
            sources=tuple(os.path.expanduser(s) if not s.startswith("unit:") else s for s in sources),
            target=target if "://" in target or target.startswith("restic:") else os.path.expanduser(target),
            retention=self.retention(d.get("retention", {}) or {}, f"{key}.retention"),
            schedule=schedule,
            tags=self.strings(d["tags"], f"{key}.tags") if "tags" in d else (),
            options=options,
            catalog=catalog,
            password_file=os.path.expanduser(secrets["password_file"]) if "password_file" in secrets else None,
            password_command=secrets.get("password_command"),
            storage_class=sclass,
            price_per_gb_month=self.number(d.get("price_per_gb_month", 0), f"{key}.price_per_gb_month"),
        )

    def retention(self, value: Any, key: str) -> Retention:
        d = self.mapping(value, key, ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly",
                                      "keep_yearly", "keep_within", "keep_tags"))
        counts = {k: self.integer(d.get(f"keep_{k}", 0), f"{key}.keep_{k}")
                  for k in ("last", "hourly", "daily", "weekly", "monthly", "yearly")}
        within = self.text(d["keep_within"], f"{key}.keep_within") if d.get("keep_within") is not None else ""
        if within and not _DURATION_RE.fullmatch(within):
            raise self.fail(f"{key}.keep_within", f"invalid duration {within!r}",
                            "write numbers with units y, m, d, h, e.g. 1y2m3d4h or 14d")
        tags: list[tuple[str, ...]] = []
        if "keep_tags" in d:
            for i, item in enumerate(self.strings(d["keep_tags"], f"{key}.keep_tags")):
                parts = tuple(t.strip() for t in item.split(",") if t.strip())
                if not parts:
                    raise self.fail(f"{key}.keep_tags[{i}]", "an empty tag set")
                tags.append(parts)
        return Retention(within=within, keep_tags=tuple(tags), **counts)

    def tier(self, name: str, value: Any) -> Tier:
        key = f"tiers.{name}"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            raise self.fail(key, "a tier name is letters, digits, '_', '.', '-' (at most 64)")
        d = self.mapping(value, key, ("path", "url", "storage_class", "price_per_gb_month", "capacity",
                                      "warn_percent", "critical_percent", "min_storage_days",
                                      "retrieval_price_per_gb", "retrieval_hours", "areas"))
        if ("path" in d) == ("url" in d):
            raise self.fail(key, "give exactly one of path (a folder) or url (s3://, gs://, azure://)")
        path = Path(self.text(d["path"], f"{key}.path")).expanduser() if "path" in d else None
        if path is not None and not path.is_absolute():
            raise self.fail(f"{key}.path", f"expected an absolute path, got {str(path)!r}")
        url = self.text(d["url"], f"{key}.url") if "url" in d else None
        if url is not None and (url.split("://", 1)[0] not in SCHEMES or "://" not in url):
            raise self.fail(f"{key}.url", f"expected an s3://, gs:// or azure:// URL, got {url!r}")
        sclass = self.text(d["storage_class"], f"{key}.storage_class") if "storage_class" in d else None
        if sclass is not None:
            if url is None:
                raise self.fail(f"{key}.storage_class", "a storage class needs a url (s3://, gs://, azure://)")
            if canonical_class(sclass, url.split("://", 1)[0]) not in known_classes():
                raise self.fail(f"{key}.storage_class", f"unknown storage class {sclass!r}",
                                "use e.g. STANDARD_IA, GLACIER, DEEP_ARCHIVE, NEARLINE, COLDLINE, ARCHIVE, Cool")
        warn = self.number(d.get("warn_percent", 80), f"{key}.warn_percent", 0, 100)
        critical = self.number(d.get("critical_percent", 90), f"{key}.critical_percent", 0, 100)
        if warn > critical:
            raise self.fail(f"{key}.warn_percent", f"{warn:g} is above critical_percent {critical:g}")
        min_days = d.get("min_storage_days")
        return Tier(
            name=name,
            path=path,
            url=url,
            storage_class=sclass,
            price_per_gb_month=self.number(d.get("price_per_gb_month", 0), f"{key}.price_per_gb_month"),
            capacity=self.size(d["capacity"], f"{key}.capacity") if d.get("capacity") is not None else None,
            warn_percent=warn,
            critical_percent=critical,
            min_storage_days=(self.integer(min_days, f"{key}.min_storage_days") if min_days is not None
                              else default_min_days(sclass, url)),
            retrieval_price_per_gb=self.number(d.get("retrieval_price_per_gb", 0), f"{key}.retrieval_price_per_gb"),
            retrieval_hours=self.number(d.get("retrieval_hours", 0), f"{key}.retrieval_hours"),
            areas=self.strings(d["areas"], f"{key}.areas", AREAS) if "areas" in d else AREAS,
        )

    def rule(self, value: Any, key: str, tiers: tuple[str, ...]) -> Rule:
        d = self.mapping(value, key, ("name", "from", "to", "last_access_days", "age_days", "min_size",
                                      "max_size", "kinds", "names", "tags"))
        for end in ("from", "to"):
            if end not in d:
                raise self.fail(f"{key}.{end}", "missing", f"name one of the tiers: {', '.join(tiers)}")
            if d[end] not in tiers:
                raise self.fail(f"{key}.{end}", f"no tier named {_shown(d[end])}", f"the tiers are {', '.join(tiers)}")
        if d["from"] == d["to"]:
            raise self.fail(f"{key}.to", "a rule must move to another tier")

        def opt_days(k: str) -> float | None:
            return self.number(d[k], f"{key}.{k}") if d.get(k) is not None else None

        def opt_size(k: str) -> int | None:
            return self.size(d[k], f"{key}.{k}") if d.get(k) is not None else None

        return Rule(
            name=self.text(d["name"], f"{key}.name") if "name" in d else f"{d['from']}->{d['to']}",
            from_tier=d["from"],
            to_tier=d["to"],
            last_access_days=opt_days("last_access_days"),
            age_days=opt_days("age_days"),
            min_size=opt_size("min_size"),
            max_size=opt_size("max_size"),
            kinds=self.strings(d["kinds"], f"{key}.kinds", UNIT_KINDS) if "kinds" in d else (),
            names=self.strings(d["names"], f"{key}.names") if "names" in d else (),
            tags=self.strings(d["tags"], f"{key}.tags") if "tags" in d else (),
        )

    def pins(self, value: Any) -> Pins:
        d = self.mapping(value, "lifecycle.pins", ("tags", "names", "active_run_days"))
        return Pins(
            tags=self.strings(d["tags"], "lifecycle.pins.tags") if "tags" in d else Pins.tags,
            names=self.strings(d["names"], "lifecycle.pins.names") if "names" in d else (),
            active_run_days=self.number(d.get("active_run_days", 14), "lifecycle.pins.active_run_days"),
        )

    def promotion(self, value: Any, tiers: tuple[str, ...]) -> Promotion:
        d = self.mapping(value, "lifecycle.promotion", ("reads", "within_days", "to"))
        to = d.get("to")
        if to is not None and to not in tiers:
            raise self.fail("lifecycle.promotion.to", f"no tier named {_shown(to)}", f"the tiers are {', '.join(tiers)}")
        return Promotion(
            reads=self.integer(d.get("reads", 3), "lifecycle.promotion.reads"),
            within_days=self.number(d.get("within_days", 7), "lifecycle.promotion.within_days"),
            to_tier=to,
        )


_DURATION_RE = re.compile(r"^(?!.*([ymdh]).*\1)(\d+[ymdh])+$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")


def _cron_ok(text: str) -> bool:
    """Five fields of cron's characters, or one of cron's @names (checked by shape only)."""
    if text.startswith("@"):
        return text in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
    fields = text.split()
    return len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key else sub


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return repr(value)
