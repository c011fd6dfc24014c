"""The plots a pipeline declares, with their data series, in the workspace or at git revisions::

    from labvault import api

    for plot in api.plots_show(repo="/data/project"):
        for s in plot.series:
            print(plot.id, s.field, len(s.points))

    for side in api.plots_diff(["v1.0"], repo="/data/project"):   # v1.0, then the workspace
        print(side.rev, [p.id for p in side.plots])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import LabvaultError
from labvault.pipelines.plots import PlotData, PlotSeries, show_plots
from labvault.pipelines.revision import WORKSPACE
from labvault.workspace.repo import open_repo

PathLike = str | os.PathLike[str]

__all__ = ["PlotData", "PlotSeries", "RevisionPlots", "plots_diff", "plots_show"]


@dataclass(frozen=True)
class RevisionPlots:
    """The plots of one revision (``workspace`` for the workspace), or why they could not be read."""

    rev: str
    plots: tuple[PlotData, ...] = ()
    error: str | None = None


def plots_show(repo: PathLike | None = None, rev: str | None = None) -> list[PlotData]:
    """Every ``plots:`` entry of the repo's dvc.yaml files (stage plots first), read from the
    workspace, or as they were at git revision ``rev``; a plot whose file cannot be read carries
    the reason in ``error`` instead of failing the call."""
    r = open_repo(Path(repo) if repo is not None else None)
    return show_plots(r, None if rev in (None, WORKSPACE) else rev)


def plots_diff(revisions: Sequence[str] = (), repo: PathLike | None = None) -> list[RevisionPlots]:
    """The plots of several revisions, to draw over each other: no revision means HEAD and the
    workspace; one means that revision and the workspace (as ``dvc plots diff``). A revision
    that cannot be read (unknown, or a repo without commits) carries the reason in ``error``."""
    r = open_repo(Path(repo) if repo is not None else None)
    revs = list(revisions) if len(revisions) > 1 else [*(revisions or ["HEAD"]), WORKSPACE]
    out = []
    for rev in revs:
        try:
            out.append(RevisionPlots(rev, tuple(show_plots(r, None if rev == WORKSPACE else rev))))
        except LabvaultError as exc:
            out.append(RevisionPlots(rev, (), exc.line()))
    return out
