"""``labvault convert``: CSV to Parquet, arrays to HDF5, files to shards."""

from __future__ import annotations

import re
from typing import Any

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json

_SIZE = re.compile(r"\s*([0-9]+)\s*([kmgt]?i?b?)\s*", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


class Size(click.ParamType[int]):
    """A byte count: ``1000``, ``64MiB``, ``1GB`` (KiB/MiB powers of 1024, kB/MB of 1000)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        m = _SIZE.fullmatch(str(value))
        if m is None:
            self.fail(f"{value!r} is not a size (e.g. 64MiB, 500MB, 1000000)", param, ctx)
        unit = m.group(2).lower()
        base = 1000 if unit and "i" not in unit and unit != "b" else 1024
        n: int = int(m.group(1)) * base ** _POWERS[unit[:1] if unit[:1] != "b" else ""]
        if n < 1:
            self.fail("a size must be positive", param, ctx)
        return n


@cli.command(name="convert")
@click.argument("src", type=click.Path())
@click.option("--to", "to", type=click.Choice(["parquet", "hdf5", "shards"]), required=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(), help="Output path (default: SRC with .parquet, .h5 or .shards).")
@click.option("--shard-size", type=Size(), default="64MiB", show_default=True, help="Bytes per shard (--to shards).")
@click.option("--chunk", type=click.IntRange(1), help="Rows per Parquet row group (1048576) or samples per HDF5 chunk (1).")
@click.option("--block-size", type=Size(), default="1MiB", show_default=True, help="CSV bytes read at a time (--to parquet).")
@click.option("--resize", metavar="WxH", help="Resize every image to W x H pixels (--to hdf5; needed for mixed sizes).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def convert_cmd(ctx: click.Context, src: str, to: str, output: str | None, shard_size: int, chunk: int | None,
                block_size: int, resize: str | None, as_json: bool) -> None:
    """Write SRC in a format the loaders read fast, with bounded memory.

    --to parquet reads one CSV file with a streaming reader (column types from the first
    block); --to hdf5 writes each .npy array or image (decoded to RGB uint8) under the folder
    SRC as one sample of dataset `data`, chunked per sample, with `names` and, for class
    subfolders (ImageFolder layout), `labels` with the class names in its `classes` attribute; --to shards packs every file under SRC into shard files plus index.json for
    StreamingDataset. The output appears whole or not at all. Use it as a dvc.yaml stage to
    version the conversion.

    \b
    Example:
      labvault convert data/raw.csv --to parquet -o data/table.parquet
      labvault convert data/images --to shards --shard-size 64MiB -o data/images.shards
      labvault convert data/images --to hdf5 --resize 64x64 -o data/images.h5
      # dvc.yaml:  cmd: labvault convert raw.csv --to parquet -o table.parquet
    """
    r = api.convert(src, to, output, shard_size=shard_size, chunk=chunk, block_size=block_size, resize=resize)
    if as_json:
        emit_json({"output": r.output, "format": to, "items": r.items, "parts": r.parts, "bytes": r.bytes})
    elif not _state(ctx).quiet:
        click.echo(f"wrote {r.output}: {r.items} {'rows' if to == 'parquet' else 'samples' if to == 'hdf5' else 'records'}"
                   f" in {r.parts} {'row groups' if to == 'parquet' else 'chunks' if to == 'hdf5' else 'shards'}"
                   f" ({r.bytes} bytes)", err=True)
