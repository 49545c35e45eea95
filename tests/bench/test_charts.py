"""The benchmark docs' bar charts: drawn from the same numbers as their tables (tested as
numbers, not pixels), and the committed docs and charts are what `--render-only` redraws."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmarks import charts
from benchmarks.images import stored
from benchmarks.images.__main__ import main as images_main
from benchmarks.images.report import render as render_images
from benchmarks.serving.__main__ import main as serving_main
from benchmarks.serving.report import CEILING
from tooling.paths import DOCS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_throughput_chart_shows_the_tables_req_and_rows_per_second() -> None:
    results = json.loads((DOCS / "benchmarks.json").read_text())["results"]
    single, batch = charts.throughput(results, leave_out=CEILING)

    def timed(kind: str) -> tuple[str, ...]:  # the explain contestants have no batch figures
        return tuple(name for name in results if name != CEILING and kind in results[name])

    assert single.labels == timed("single")
    assert batch.labels == timed("batch")
    assert "bankchurn-onnx-explain" in single.labels
    assert "bankchurn-onnx-explain" not in batch.labels
    assert single.series == {
        "requests/s": tuple(results[n]["single"]["throughput_rps"] for n in timed("single"))
    }
    assert batch.series == {
        "customers/s": tuple(
            results[n]["batch"]["throughput_rps"] * results[n]["batch"]["rows"]
            for n in timed("batch")
        )
    }
    assert batch.title == f"{results['bankchurn-onnx']['batch']['rows']} customers per request"


def test_size_chart_shows_the_tables_sizes_in_decimal_mb() -> None:
    images, results, _ = stored.load(DOCS / "images.json")
    panel = charts.image_sizes(
        [i.title for i in images],
        [(results[i.key].size, results[i.key].compressed) for i in images],
    )
    markdown = (DOCS / "images.md").read_text()
    assert panel.labels == tuple(i.title for i in images)
    for label, value in zip(panel.labels, panel.series["uncompressed"], strict=True):
        assert value == results[next(i.key for i in images if i.title == label)].size / 1e6
    # The table row the chart draws: the same numbers, as the table rounds them.
    row = next(line for line in markdown.splitlines() if line.startswith("| size, uncompressed"))
    cells = [cell.strip() for cell in row.strip("|").split("|")][1:]
    assert cells == [f"{value:.0f} MB" for value in panel.series["uncompressed"]]


def test_the_committed_images_report_is_rendered_from_the_committed_numbers() -> None:
    images, results, context = stored.load(DOCS / "images.json")
    assert render_images(images, results, context) == (DOCS / "images.md").read_text()


@pytest.mark.parametrize(
    ("main", "document", "chart"),
    [(images_main, "images.md", "sizes"), (serving_main, "benchmarks.md", "throughput")],
)
def test_render_only_redraws_the_committed_chart_byte_for_byte(
    main, document: str, chart: str, tmp_path: Path
) -> None:
    numbers = Path(document).with_suffix(".json")
    shutil.copy(DOCS / numbers, tmp_path / numbers)

    assert main(["--render-only", "--out", str(tmp_path / document)]) == 0

    drawn = charts.chart_path(tmp_path / document, chart)
    committed = charts.chart_path(DOCS / document, chart)
    assert drawn.read_bytes()[:8] == PNG_SIGNATURE
    assert drawn.read_bytes() == committed.read_bytes(), f"{committed} is stale: --render-only"
    assert (tmp_path / document).read_text() == (DOCS / document).read_text()


@pytest.mark.parametrize(
    ("document", "chart"), [("images.md", "sizes"), ("benchmarks.md", "throughput")]
)
def test_each_report_links_its_chart(document: str, chart: str) -> None:
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (DOCS / document).read_text())
    assert links == [f"img/{charts.chart_path(DOCS / document, chart).name}"]
    assert (DOCS / links[0]).is_file()
