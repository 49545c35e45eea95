"""The image benchmark's command line: `python -m benchmarks.images` (see the package doc)."""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from collections.abc import Sequence

import benchmarks.images
from benchmarks.cli import report_parser, run_cli
from benchmarks.containers import Containers
from benchmarks.images import stored
from benchmarks.images.builds import build, hadolint, label_args, preflight, read_build_args
from benchmarks.images.catalogue import BUILD_TAG, LABEL, Image, Result, catalogue
from benchmarks.images.report import draw_chart, render, run_context
from benchmarks.images.runtime import measure_runtime
from benchmarks.images.static import gzip_size, measure_static
from tooling.docker import docker
from tooling.paths import DOCS


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = report_parser("benchmarks.images", benchmarks.images.__doc__, DOCS / "images.md")
    parser.add_argument("--runs", type=int, default=5, help="cold starts per image (default 5)")
    parser.add_argument("--skip-cold-build", action="store_true", help="no --no-cache builds")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    return args


def measure(
    images: tuple[Image, ...], build_args: list[str], args: argparse.Namespace
) -> dict[str, Result]:
    """Every image's numbers; its containers and scratch build tags removed, also on failure."""
    results = {image.key: Result() for image in images}
    containers = Containers(LABEL)
    build_tags: list[str] = []
    sklearn = images[3]
    try:
        production_labels = label_args(images[2].tag)
        sklearn_first = build(sklearn, sklearn.tag, build_args, production_labels)
        print(f"images: built {sklearn.tag} in {sklearn_first:.0f} s", flush=True)
        for image in images:
            result = results[image.key]
            result.hadolint = hadolint(image.dockerfile)
            measure_static(image, result)
            measure_runtime(image, result, args.runs, containers)
            print(f"images: {image.tag}: started in {statistics.median(result.starts):.2f} s "
                  f"(median of {args.runs})", flush=True)  # fmt: skip
        for image in images:
            results[image.key].compressed = gzip_size(image.tag)
            print(f"images: {image.tag}: compressed", flush=True)
        for image in images:
            labels = label_args(image.tag)
            scratch = f"{BUILD_TAG}:{image.key}"
            build_tags.append(scratch)
            if not args.skip_cold_build:
                results[image.key].build_cold = build(image, scratch, build_args, labels,
                                                      "--no-cache")  # fmt: skip
            else:  # bring BuildKit's cache up to date with the tree, untimed
                build(image, scratch, build_args, labels)
            results[image.key].build_warm = build(image, scratch, build_args, labels)
            print(f"images: {image.tag}: builds timed", flush=True)
    finally:
        containers.remove_all()
        if build_tags:
            docker("rmi", "--force", *build_tags, check=False)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    numbers = args.out.with_suffix(".json")
    if args.render_only:
        images, results, context = stored.load(numbers)
        args.out.write_text(render(images, results, context, args.out))
        chart = draw_chart(images, results, args.out, context)
        print(f"images: rewrote {args.out} and {chart} from {numbers}")
        return 0
    # `docker stop` or Ctrl-C of this script still removes its containers (measure's finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    images = catalogue()
    build_args = read_build_args()
    preflight(images, build_args)
    arguments = sys.argv[1:] if argv is None else list(argv)
    context = run_context(images, build_args, arguments)
    load_before = os.getloadavg()
    began = time.monotonic()
    results = measure(images, build_args, args)
    context |= {
        "load": (load_before, os.getloadavg()),
        "minutes": (time.monotonic() - began) / 60,
        "runs": args.runs,
        "skip_cold_build": args.skip_cold_build,
    }
    args.out.write_text(render(images, results, context, args.out))
    stored.save(numbers, images, results, context)
    chart = draw_chart(images, results, args.out, context)
    print(f"images: wrote {args.out}, {numbers} and {chart}")
    return 0


if __name__ == "__main__":
    run_cli(main, "benchmarks.images")
