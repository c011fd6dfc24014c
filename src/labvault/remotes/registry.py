"""From a URL (and a remote's options) to a backend. Storage packages are imported lazily, with a
clear "install labvault[s3]" error when one is missing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from labvault.errors import ConfigError, MissingBackendError
from labvault.remotes.base import Backend
from labvault.remotes.local import LocalBackend

_URL = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<rest>.*)$")

SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs", "azure": "azure", "az": "azure", "file": "file"}
EXTRAS = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "azure": ("adlfs", "azure")}


def split_url(url: str, http: bool = False) -> tuple[str, str]:
    """(kind, rest): kind is file, s3, gs or azure; rest is 'bucket/path' or a local path. With
    ``http`` (a DVC remote's url), also kind http for http:// and https://, rest the whole url."""
    if not url or not url.strip():
        raise ConfigError("empty remote url", "give a folder or an s3://, gs:// or azure:// url")
    m = _URL.match(url)
    if not m:
        return "file", url
    scheme = m.group("scheme").lower()
    if scheme in ("http", "https"):
        if not http:
            raise ConfigError(f"{url!r}: an http(s) URL serves here only as a remote's url",
                              "use a local path, file://, s3://, gs:// or azure:// (container/path)")
        from labvault.remotes.http import check_url

        check_url(url)
        return "http", url
    if scheme not in SCHEMES:
        raise ConfigError(
            f"unsupported storage url {url!r}", "use a local path, file://, s3://, gs:// or azure:// (container/path)"
        )
    kind = SCHEMES[scheme]
    rest = m.group("rest")
    if kind == "file":
        return kind, rest or "/"
    bucket = rest.split("/", 1)[0]
    if not bucket or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$", bucket):
        raise ConfigError(f"malformed url {url!r}: no valid bucket or container name", f"use {scheme}://BUCKET/PATH")
    return kind, rest.rstrip("/")


def _import(kind: str) -> Any:
    module, extra = EXTRAS[kind]
    if kind == "gs":
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    try:
        return __import__(module)
    except ImportError:
        raise MissingBackendError(
            f"{kind}:// storage needs the {module} package", f"install it with `pip install 'labvault[{extra}]'`"
        ) from None


def _opt(options: Mapping[str, str], *names: str) -> str | None:
    for n in names:
        if options.get(n):
            return options[n]
    return None


def _s3(url: str, rest: str, options: Mapping[str, str]) -> Backend:
    s3fs = _import("s3")
    client_kwargs: dict[str, Any] = {}
    endpoint = _opt(options, "endpointurl", "endpoint_url") or os.environ.get("AWS_ENDPOINT_URL_S3")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if options.get("region"):
        client_kwargs["region_name"] = options["region"]
    kwargs: dict[str, Any] = {"client_kwargs": client_kwargs, "skip_instance_cache": True}
    if options.get("access_key_id"):
        kwargs["key"] = options["access_key_id"]
    if options.get("secret_access_key"):
        kwargs["secret"] = options["secret_access_key"]
    if options.get("session_token"):
        kwargs["token"] = options["session_token"]
    if options.get("profile"):
        kwargs["profile"] = options["profile"]
    from labvault.remotes.fsspec_backend import FsspecBackend

    return FsspecBackend(url, s3fs.S3FileSystem(**kwargs), rest, "s3")


def _gs(url: str, rest: str, options: Mapping[str, str]) -> Backend:
    gcsfs = _import("gs")
    kwargs: dict[str, Any] = {"skip_instance_cache": True}
    if options.get("projectname"):
        kwargs["project"] = options["projectname"]
    endpoint = _opt(options, "endpointurl", "endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST")
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if options.get("credentialpath"):
        kwargs["token"] = options["credentialpath"]
    elif endpoint:
        kwargs["token"] = "anon"
    from labvault.remotes.fsspec_backend import FsspecBackend

    return FsspecBackend(url, gcsfs.GCSFileSystem(**kwargs), rest, "gs")


def _azure(url: str, rest: str, options: Mapping[str, str]) -> Backend:
    adlfs = _import("azure")
    kwargs: dict[str, Any] = {"skip_instance_cache": True}
    conn = options.get("connection_string") or os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if conn:
        kwargs["connection_string"] = conn
    for opt, arg in (("account_name", "account_name"), ("account_key", "account_key"), ("sas_token", "sas_token")):
        if options.get(opt):
            kwargs[arg] = options[opt]
    if "connection_string" not in kwargs and "account_name" not in kwargs:
        if os.environ.get("AZURE_STORAGE_ACCOUNT"):
            kwargs["account_name"] = os.environ["AZURE_STORAGE_ACCOUNT"]
        else:
            raise ConfigError(
                f"no Azure account for {url}",
                "set one with `labvault remote modify NAME connection_string ...` or `account_name ...`",
            )
    import warnings

    from labvault.remotes.fsspec_backend import FsspecBackend

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # adlfs warns about optional settings on stderr
        fs = adlfs.AzureBlobFileSystem(**kwargs)
    return FsspecBackend(url, fs, rest, "azure")


_FACTORIES: dict[str, Callable[[str, str, Mapping[str, str]], Backend]] = {
    "s3": _s3,
    "gs": _gs,
    "azure": _azure,
}


def open_backend(url: str, options: Mapping[str, str] | None = None, retries: bool = True) -> Backend:
    """A backend for ``url``; ``options`` are a remote's config keys (region, endpointurl, ...)."""
    kind, rest = split_url(url, http=True)
    if kind == "file":
        types = [t.strip() for t in (options or {}).get("type", "").split(",")]
        backend: Backend = LocalBackend(rest, link_objects="hardlink" in types)
    elif kind == "http":
        from labvault.remotes.http import HttpBackend

        backend = HttpBackend(url, options or {})
    else:
        backend = _FACTORIES[kind](url, rest, options or {})
    if retries and kind != "file":
        from labvault.remotes.retry import RetryingBackend

        backend = RetryingBackend(backend)
    return backend
