"""Bar charts for the benchmark reports, drawn from the numbers their tables print.

docs/images.md (benchmarks.images) charts the image sizes and docs/benchmarks.md
(benchmarks.serving) the throughput per contestant. Each report builds its ``Panel``s from
the same results its table is rendered from (``image_sizes``, ``throughput``: tested against
those results), and ``draw`` writes one PNG beside the document, under docs/img/.

matplotlib is a development dependency (requirements-dev.txt), never a serving one; it is
imported only when a chart is drawn, on a bare ``Figure`` saved through the Agg canvas.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Beside the documents: docs/img/<document stem>-<chart>.png, linked as img/... from docs/.
IMAGES_FOLDER = "img"
_DPI = 100
_BAR_HEIGHT = 0.8


@dataclass(frozen=True)
class Panel:
    """One bar chart: a bar per label and series (series side by side within a label)."""

    title: str
    unit: str
    labels: tuple[str, ...]
    series: Mapping[str, tuple[float, ...]]
    value_format: str = "{:,.0f}"


def chart_path(document: Path, chart: str) -> Path:
    """Where the chart ``chart`` of ``document`` (docs/x.md) lives: docs/img/x-chart.png."""
    return document.parent / IMAGES_FOLDER / f"{document.stem}-{chart}.png"


def markdown_link(document: Path, chart: str, alt: str) -> str:
    """The Markdown that shows the chart in ``document``, relative to the document's folder."""
    return f"![{alt}]({IMAGES_FOLDER}/{chart_path(document, chart).name})"


def image_sizes(titles: Sequence[str], sizes: Sequence[tuple[float, float]]) -> Panel:
    """Uncompressed and compressed size (bytes, decimal MB in the chart) per image."""
    return Panel(
        "",
        "MB (decimal)",
        tuple(titles),
        {
            "uncompressed": tuple(size / 1e6 for size, _ in sizes),
            "compressed (docker save | gzip -6)": tuple(packed / 1e6 for _, packed in sizes),
        },
    )


def throughput(results: Mapping[str, Any], leave_out: str | None = None) -> tuple[Panel, Panel]:
    """Single-row requests/s and batch rows/s per contestant, from the serving report's
    results (docs/benchmarks.json's ``results``), in the table's order, but ``leave_out``.
    A contestant timed on other payloads only (the explain ones) is absent from a panel."""

    def timed(kind: str) -> tuple[str, ...]:
        return tuple(name for name in results if name != leave_out and kind in results[name])

    def rate(kind: str, per_row: bool) -> tuple[float, ...]:
        return tuple(
            results[name][kind]["throughput_rps"] * (results[name][kind]["rows"] if per_row else 1)
            for name in timed(kind)
        )

    batches = [result["batch"]["rows"] for result in results.values() if "batch" in result]
    rows = batches[0] if batches else 0
    return (
        Panel("One customer per request", "requests/s", timed("single"),
              {"requests/s": rate("single", False)}),
        Panel(f"{rows} customers per request", "customers/s", timed("batch"),
              {"customers/s": rate("batch", True)}),
    )  # fmt: skip


def draw(path: Path, title: str, panels: Sequence[Panel], note: str) -> Path:
    """Write ``panels`` side by side as one PNG at ``path`` (its folder created)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    width = max(8.0, 5.2 * len(panels))
    height = 1.6 + 0.45 * max(len(p.labels) * len(p.series) for p in panels)
    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    figure.suptitle(title, fontsize=11)
    # About 15 characters of 8-point text per inch.
    figure.supxlabel(textwrap.fill(note, int(width * 15)), fontsize=8, color="dimgrey")
    for axes, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        step = _BAR_HEIGHT / len(panel.series)
        peak = max((v for values in panel.series.values() for v in values), default=1.0)
        for index, (name, values) in enumerate(panel.series.items()):
            # Top to bottom in the labels' (the table's) order.
            positions = [len(panel.labels) - 1 - i - index * step for i in range(len(values))]
            bars = axes.barh(positions, values, height=step, label=name)
            axes.bar_label(bars, [panel.value_format.format(v) for v in values],
                           padding=3, fontsize=8)  # fmt: skip
        centres = [len(panel.labels) - 1 - i - (len(panel.series) - 1) * step / 2
                   for i in range(len(panel.labels))]  # fmt: skip
        axes.set_yticks(centres, panel.labels, fontsize=9)
        axes.set_xlim(0, peak * 1.22)
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        if panel.title:
            axes.set_title(panel.title, fontsize=10)
        axes.set_xlabel(panel.unit)
        axes.grid(axis="x", alpha=0.3)
        if len(panel.series) > 1:
            axes.legend(loc="lower right", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # No "Software" entry (matplotlib's version): the same numbers give the same bytes.
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
