"""Measure the project's images and write docs/images.md (a generated table), its numbers
(docs/images.json) and its size bar chart (docs/img/images-sizes.png, benchmarks.charts).

Per image (level1, level2, production and production's scikit-learn variant, which this
script builds as bankchurn:production-sklearn with build.sh's recorded build args):
sizes (uncompressed, gzip -6 of `docker save`, streamed), layers, user, shell, pip,
healthcheck, cold start to the first /ready 200 (median of --runs), RSS idle and after
200 /predict requests, `docker stop` time and exit code, cold and warm build times, and
hadolint findings; then the project's size and start-up goals, met or not.

The images must exist (`scripts/images/build.sh all`); a missing one is an error. Every
container started here is named bankchurn-bench-*, labelled, and removed at the end.

    .venv/bin/python -m benchmarks.images [--runs 5] [--skip-cold-build] [--out docs/images.md]
    .venv/bin/python -m benchmarks.images --render-only   # report + chart from the .json

One job per module: catalogue (the images and the record per image), static (an image
at rest), runtime (containers of it), builds (timed builds, base images, hadolint),
report (the markdown and the chart), stored (the numbers as JSON) and __main__ (the
command line).
"""
