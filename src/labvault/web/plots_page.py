"""A self-contained HTML page of a pipeline's plots (``labvault plots show`` and ``plots diff``):
one server-rendered SVG chart per plot (``plot_svg.line_chart``), the dashboard's stylesheet
inlined, no script and nothing fetched, so the file opens anywhere, offline, and can be attached
to a report as it is.

With several revisions, each plot is drawn once with every revision's series over each other,
named ``REV: FIELD`` (``REV: FILE: FIELD`` when a plot reads several files). An image plot is
embedded as it is (a ``data:`` URL, so the page stays one file), one per revision, side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib import resources

from labvault.api.plots import PlotData, RevisionPlots
from labvault.web.plot_svg import line_chart


def _css() -> str:
    return resources.files("labvault.web").joinpath("static/labvault.css").read_text(encoding="utf-8")


def _series_name(rev: str | None, plot: PlotData, file: str, field: str) -> str:
    files = {s.file for s in plot.series}
    name = f"{file}: {field}" if len(files) > 1 else field
    return f"{rev}: {name}" if rev is not None else name


def image_tag(plot: PlotData, caption: str | None = None) -> str:
    """An ``<img>`` of an image plot, its bytes in a ``data:`` URL (an SVG in ``<img>`` runs no script)."""
    img = f'<img class="plot-image" src="data:{plot.mime};base64,{plot.image}" alt="{escape(plot.id)}">'
    return f"<div>{img}<p class=\"muted\">{escape(caption)}</p></div>" if caption else img


def plots_html(sides: Sequence[RevisionPlots], title: str) -> str:
    """The page: one figure per plot id (first-seen order), its series from every revision in
    ``sides`` (a single side is drawn without revision names); errors listed under the chart."""
    named = len(sides) > 1
    order: dict[str, list[tuple[str, PlotData]]] = {}
    for side in sides:
        for plot in side.plots:
            order.setdefault(plot.id, []).append((side.rev, plot))
    figures = []
    for pid, found in order.items():
        series: dict[str, list[tuple[object, float]]] = {}
        errors = []
        for rev, plot in found:
            for s in plot.series:
                series[_series_name(rev if named else None, plot, s.file, s.field)] = list(s.points)
            if plot.error:
                errors.append(f"{rev}: {plot.error}" if named else plot.error)
        first = found[0][1]
        if first.kind == "image":
            chart = "".join(image_tag(p, rev if named else None) for rev, p in found if p.image is not None)
            notes = "".join(f'<p class="bad">{escape(e)}</p>' for e in errors)
            figures.append(f'<figure id="{escape(pid)}">{chart}<figcaption class="muted">{escape(pid)}</figcaption>'
                           f"{notes}</figure>")
            continue
        chart = line_chart(series, title=first.title, x_label=first.x,
                           y_label=", ".join(dict.fromkeys(s.field for _, p in found for s in p.series)))
        notes = "".join(f'<p class="bad">{escape(e)}</p>' for e in errors)
        figures.append(f'<figure id="{escape(pid)}">{chart}<figcaption class="muted">{escape(pid)}</figcaption>'
                       f"{notes}</figure>")
    failed = "".join(f'<p class="bad">{escape(s.rev)}: {escape(s.error)}</p>' for s in sides if s.error)
    empty = "" if order else '<p class="muted">No plots: declare them under <code>plots:</code> in dvc.yaml.</p>'
    revs = ", ".join(s.rev for s in sides)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_css()}</style></head>"
        f"<body><main><h1>{escape(title)}</h1><p class=\"muted\">{escape(revs)}</p>{failed}{empty}"
        f"<div class=\"charts\">{''.join(figures)}</div></main></body></html>\n"
    )
