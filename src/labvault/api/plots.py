"""The plots a pipeline declares, with their data series read from the workspace::

    from labvault import api

    for plot in api.plots_show(repo="/data/project"):
        for s in plot.series:
            print(plot.id, s.field, len(s.points))
"""

from __future__ import annotations

import os
from pathlib import Path

from labvault.pipelines.plots import PlotData, PlotSeries, show_plots
from labvault.workspace.repo import open_repo

PathLike = str | os.PathLike[str]

__all__ = ["PlotData", "PlotSeries", "plots_show"]


def plots_show(repo: PathLike | None = None) -> list[PlotData]:
    """Every ``plots:`` entry of the repo's dvc.yaml files (stage plots first); a plot whose file
    cannot be read carries the reason in ``error`` instead of failing the call."""
    return show_plots(open_repo(Path(repo) if repo is not None else None))
