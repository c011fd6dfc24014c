"""Storage classes: the minimum storage duration each one bills, and which are infrequent-access.

Deleting or moving an object out of a class before its minimum duration is billed as if it had
stayed (an early-deletion fee). Infrequent-access classes also bill each object as at least
128 KiB, so small objects are not sent there unless packed.
"""

from __future__ import annotations

# Minimum storage days per class, as the clouds bill them (case-insensitive keys).
MIN_STORAGE_DAYS: dict[str, int] = {
    # Amazon S3
    "STANDARD": 0,
    "INTELLIGENT_TIERING": 0,
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
    # Google Cloud Storage
    "NEARLINE": 30,
    "COLDLINE": 90,
    "ARCHIVE": 365,
    # Azure Blob Storage (access tiers)
    "HOT": 0,
    "COOL": 30,
    "COLD": 90,
    "AZURE_ARCHIVE": 180,
}

# Classes that bill small objects as 128 KiB each.
IA_CLASSES = frozenset({"STANDARD_IA", "ONEZONE_IA", "GLACIER_IR"})
IA_MIN_OBJECT_BYTES = 128 * 1024

# Classes whose objects must be restored before they can be read.
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE", "AZURE_ARCHIVE"})

SCHEMES = ("s3", "gs", "azure")


def canonical_class(storage_class: str, scheme: str | None) -> str:
    """The class's key in MIN_STORAGE_DAYS: upper case; Azure's ``Archive`` is ``AZURE_ARCHIVE``."""
    key = storage_class.strip().upper()
    if scheme == "azure" and key == "ARCHIVE":
        return "AZURE_ARCHIVE"
    return key


def known_classes() -> list[str]:
    return sorted(MIN_STORAGE_DAYS)


def min_storage_days(storage_class: str | None, scheme: str | None) -> int:
    """The minimum storage duration of ``storage_class`` (0 for local folders and unknown classes)."""
    if storage_class is None:
        return 0
    return MIN_STORAGE_DAYS.get(canonical_class(storage_class, scheme), 0)


def early_deletion_fee(price_per_gb_month: float, size: int, remaining_days: float) -> float:
    """What deleting ``size`` bytes ``remaining_days`` before their class's minimum duration is
    billed, at ``price_per_gb_month`` per GiB (30-day months): the storage still owed."""
    return remaining_days / 30.0 * size / 1024**3 * price_per_gb_month
