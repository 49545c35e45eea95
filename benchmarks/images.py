"""Measure the project's images and write docs/images.md (a generated table).

Per image (level1, level2, production and production's scikit-learn variant, which this
script builds as bankchurn:production-sklearn with build.sh's recorded build args):
sizes (uncompressed, gzip -6 of `docker save`, streamed), layers, user, shell, pip,
healthcheck, cold start to the first /ready 200 (median of --runs), RSS idle and after
200 /predict requests, `docker stop` time and exit code, cold and warm build times, and
hadolint findings; then the project's size and start-up goals, met or not.

The images must exist (`scripts/images/build.sh all`); a missing one is an error. Every
container started here is named bankchurn-bench-*, labelled, and removed at the end.

    .venv/bin/python benchmarks/images.py [--runs 5] [--skip-cold-build] [--out docs/images.md]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Debian's client drives the engine's built-in BuildKit (the Docker 28 client here has no buildx).
DOCKER = "/usr/bin/docker"
HADOLINT = ROOT / ".venv-tools" / "bin" / "hadolint"
BUILD_ARGS_FILE = ROOT / ".cache" / "images" / "build-args"
LABEL = "bankchurn-bench-images"
# Timed builds go to this scratch repository (removed at the end), never to the project's tags.
BUILD_TAG = "bankchurn-bench-build"
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")
READY_TIMEOUT = 60.0
HEALTHY_TIMEOUT = 60.0
PREDICTS = 200
MB = 1_000_000  # decimal megabytes, as `docker images` reports them
GOALS = {
    "production_uncompressed_mb": 250,
    "production_compressed_mb": 80,
    "level2_uncompressed_mb": 400,
    "production_cold_start_s": 3.0,
}
CUSTOMER = {
    "credit_score": 600, "geography": "Spain", "gender": "Male", "age": 50, "tenure": 3,
    "balance": 1000.0, "num_of_products": 2, "has_cr_card": 0, "is_active_member": 0,
    "estimated_salary": 50000.0,
}  # fmt: skip
# Run inside each image with its serving interpreter: pip executables on PATH, and pip importable.
PIP_PROBE = (
    "import importlib.util, os, shutil\n"
    "dirs = os.environ['PATH'].split(':') + ['/usr/local/bin', '/usr/bin']\n"
    "found = [p for d in dirs for n in ('pip', 'pip3') if (p := shutil.which(n, path=d))]\n"
    "exes = sorted({os.path.realpath(p) for p in found})\n"
    "print(' '.join(exes + (['import pip'] if importlib.util.find_spec('pip') else [])))\n"
)


@dataclass(frozen=True)
class Image:
    key: str
    title: str
    tag: str
    dockerfile: str
    run_options: tuple[str, ...]
    build_extra: tuple[str, ...] = ()


IMAGES = (
    Image("level1", "level1", "bankchurn:level1", "docker/Dockerfile.level1", ()),
    Image("level2", "level2", "bankchurn:level2", "docker/Dockerfile.level2", HARDENED),
    Image("production", "production", "bankchurn:production", "docker/Dockerfile.production",
          HARDENED),
    Image("sklearn", "production (sklearn variant)", "bankchurn:production-sklearn",
          "docker/Dockerfile.production", HARDENED, ("--build-arg", "BACKEND=sklearn")),
)  # fmt: skip


@dataclass
class Result:
    size: int = 0
    compressed: int = 0
    layers: int = 0
    config_user: str = ""
    uids: str = ""
    shell: bool = False
    pip: str = ""
    healthcheck: bool = False
    healthy: str = ""
    starts: list[float] = field(default_factory=list)
    rss_idle: float = 0.0
    rss_after: float = 0.0
    cgroup_idle: str = ""
    cgroup_after: str = ""
    predicts_ok: int = 0
    stop_seconds: float = 0.0
    exit_code: str = ""
    build_cold: float | None = None
    build_warm: float | None = None
    hadolint: list[str] = field(default_factory=list)


class BenchError(RuntimeError):
    """A precondition or a docker command failed: the message says which and what to do."""


def docker(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise BenchError(
            f"docker {shlex.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def http_status(method: str, url: str, body: Any = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback URLs only)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


class Containers:
    """Starts uniquely named, labelled containers; remove_all() removes every one of them."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def start(self, image: Image) -> tuple[str, str, float]:
        """Returns (name, base URL, monotonic time just before `docker run`)."""
        name = f"bankchurn-bench-{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        started = time.monotonic()
        docker("run", "--detach", "--name", name, "--label", LABEL,
               "--publish", "127.0.0.1::8000", *image.run_options, image.tag)  # fmt: skip
        port = docker("port", name, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        return name, f"http://127.0.0.1:{port}", started

    def remove(self, name: str) -> None:
        docker("rm", "--force", "--volumes", name, check=False)
        self.names.remove(name)

    def remove_all(self) -> None:
        if self.names:
            docker("rm", "--force", "--volumes", *self.names, check=False)
            self.names.clear()


def wait_ready(name: str, url: str, started: float) -> float:
    deadline, next_check = started + READY_TIMEOUT, 0.0
    while time.monotonic() < deadline:
        try:
            if http_status("GET", url + "/ready") == 200:
                return time.monotonic() - started
        except OSError:  # not listening yet
            pass
        if time.monotonic() > next_check:
            if docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
                break
            next_check = time.monotonic() + 1.0
        time.sleep(0.05)
    logs = docker("logs", name, check=False)
    raise BenchError(
        f"{name} not ready within {READY_TIMEOUT} s:\n{(logs.stdout + logs.stderr)[-2000:]}"
    )


def processes(name: str) -> tuple[str, float]:
    """Distinct uids of the container's processes and their summed RSS in MiB (docker top)."""
    rows = docker("top", name, "-o", "pid,uid,rss").stdout.splitlines()[1:]
    uids = sorted({row.split()[1] for row in rows}, key=int)
    return ",".join(uids), sum(int(row.split()[2]) for row in rows) / 1024


def cgroup_memory(name: str) -> str:
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout
    return usage.split("/")[0].strip()


def measure_runtime(image: Image, result: Result, runs: int, containers: Containers) -> None:
    """`runs` cold starts; the first container also gives user, memory, health and stop."""
    for run in range(runs):
        name, url, started = containers.start(image)
        result.starts.append(wait_ready(name, url, started))
        if run == 0:
            time.sleep(1.0)  # let start-up work that follows /ready settle
            result.uids, result.rss_idle = processes(name)
            result.cgroup_idle = cgroup_memory(name)
            result.predicts_ok = sum(
                http_status("POST", url + "/predict", CUSTOMER) == 200 for _ in range(PREDICTS)
            )
            result.rss_after = processes(name)[1]
            result.cgroup_after = cgroup_memory(name)
            result.healthy = wait_healthy(name, started) if result.healthcheck else "-"
            stop_started = time.monotonic()
            docker("stop", "-t", "10", name, timeout=60)
            result.stop_seconds = time.monotonic() - stop_started
            result.exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout
        containers.remove(name)


def wait_healthy(name: str, started: float) -> str:
    template = "{{.State.Health.Status}}"
    while time.monotonic() < started + HEALTHY_TIMEOUT:
        status = docker("inspect", "--format", template, name).stdout.strip()
        if status == "healthy":
            return f"yes, {time.monotonic() - started:.0f} s"
        if status == "unhealthy":
            return "no: unhealthy"
        time.sleep(0.5)
    return f"no: not healthy within {HEALTHY_TIMEOUT:.0f} s"


def measure_static(image: Image, result: Result) -> None:
    info = json.loads(docker("image", "inspect", image.tag).stdout)[0]
    result.size = info["Size"]
    result.layers = len(info["RootFS"]["Layers"])
    result.config_user = info["Config"].get("User") or "(none: root)"
    health = info["Config"].get("Healthcheck") or {}
    result.healthcheck = bool(health.get("Test")) and health["Test"] != ["NONE"]
    probe = ("run", "--rm", "--label", LABEL, "--name", f"bankchurn-bench-{uuid.uuid4().hex[:10]}")
    shell = docker(*probe, "--entrypoint", "/bin/sh", image.tag, "-c", "true", check=False)
    result.shell = shell.returncode == 0
    probe = ("run", "--rm", "--label", LABEL, "--name", f"bankchurn-bench-{uuid.uuid4().hex[:10]}")
    pip = docker(*probe, "--entrypoint", "python", image.tag, "-c", PIP_PROBE, check=False)
    if pip.returncode != 0:
        raise BenchError(f"pip probe failed in {image.tag}:\n{pip.stderr}")
    result.pip = pip.stdout.strip() or "no"


def gzip_size(tag: str) -> int:
    """Bytes of `docker save TAG | gzip -6`, computed while streaming (nothing written to disk)."""
    with subprocess.Popen([DOCKER, "save", tag], stdout=subprocess.PIPE) as save:
        assert save.stdout is not None  # noqa: S101 (stdout=PIPE)
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
        total = 0
        while chunk := save.stdout.read(1 << 20):
            total += len(compressor.compress(chunk))
        total += len(compressor.flush())
    if save.returncode != 0:
        raise BenchError(f"docker save {tag} failed ({save.returncode})")
    return total


def build(image: Image, tag: str, build_args: list[str], labels: list[str], *flags: str) -> float:
    command = [
        DOCKER, "build", "--progress=plain", "--file", str(ROOT / image.dockerfile), "--tag", tag,
        *flags, *build_args, *image.build_extra, *labels, str(ROOT),
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    if result.returncode != 0:
        raise BenchError(f"{shlex.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def label_args(tag: str) -> list[str]:
    """VERSION/REVISION/CREATED as the existing image was built with, so a warm build matches it."""
    labels = json.loads(docker("image", "inspect", tag).stdout)[0]["Config"].get("Labels") or {}
    args = []
    for arg, key in (("VERSION", "version"), ("REVISION", "revision"), ("CREATED", "created")):
        if value := labels.get(f"org.opencontainers.image.{key}"):
            args += ["--build-arg", f"{arg}={value}"]
    return args


def hadolint(dockerfile: str) -> list[str]:
    result = subprocess.run(
        [str(HADOLINT), "--no-fail", "--format", "json", dockerfile],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    findings = json.loads(result.stdout or "[]")
    return [f"{f['code']} ({f['level']}, line {f['line']}): {f['message']}" for f in findings]


def read_build_args() -> list[str]:
    if not BUILD_ARGS_FILE.exists():
        raise BenchError(
            f"{BUILD_ARGS_FILE} missing: build the images with scripts/images/build.sh all"
        )
    return [line for line in BUILD_ARGS_FILE.read_text().splitlines() if line]


def base_images(build_args: list[str]) -> dict[str, str]:
    """Each base-image build arg: the recorded value, else the Dockerfile's upstream default."""
    passed = dict(
        value.split("=", 1) for flag, value in itertools.pairwise(build_args)
        if flag == "--build-arg" and "=" in value
    )  # fmt: skip
    bases = {}
    for dockerfile in sorted({image.dockerfile for image in IMAGES}):
        text = (ROOT / dockerfile).read_text()
        for name, default in re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.M):
            bases[name] = passed.get(name, default)
    return bases


def preflight(build_args: list[str]) -> None:
    if docker("info", "--format", "{{.ServerVersion}}", check=False).returncode != 0:
        raise BenchError("no Docker engine answers: run scripts/images/engine.sh")
    for image in IMAGES[:3]:
        if docker("image", "inspect", image.tag, check=False).returncode != 0:
            raise BenchError(
                f"image {image.tag} is missing: build it with scripts/images/build.sh all"
            )
    for value in build_args:
        if value.startswith("PIP_FIND_LINKS=http"):
            url = value.split("=", 1)[1]
            try:
                http_status("GET", url)
            except OSError as error:
                raise BenchError(
                    f"wheelhouse {url} does not answer ({error}): run scripts/images/wheelhouse.sh "
                    "start"
                ) from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts per image (default 5)")
    parser.add_argument("--skip-cold-build", action="store_true", help="no --no-cache builds")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images.md")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    # `docker stop` or Ctrl-C of this script still removes its containers (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    build_args = read_build_args()
    preflight(build_args)
    load_before = os.getloadavg()
    began = time.monotonic()
    results = {image.key: Result() for image in IMAGES}
    containers = Containers()
    build_tags: list[str] = []
    try:
        production_labels = label_args("bankchurn:production")
        sklearn_first = build(IMAGES[3], IMAGES[3].tag, build_args, production_labels)
        print(f"images: built {IMAGES[3].tag} in {sklearn_first:.0f} s", flush=True)
        for image in IMAGES:
            result = results[image.key]
            result.hadolint = hadolint(image.dockerfile)
            measure_static(image, result)
            measure_runtime(image, result, args.runs, containers)
            print(f"images: {image.tag}: started in {statistics.median(result.starts):.2f} s "
                  f"(median of {args.runs})", flush=True)  # fmt: skip
        for image in IMAGES:
            results[image.key].compressed = gzip_size(image.tag)
            print(f"images: {image.tag}: compressed", flush=True)
        for image in IMAGES:
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
    context = {
        "build_args": build_args,
        "load": (load_before, os.getloadavg()),
        "minutes": (time.monotonic() - began) / 60,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "runs": args.runs,
        "skip_cold_build": args.skip_cold_build,
    }
    args.out.write_text(render(results, context))
    print(f"images: wrote {args.out}")
    return 0


def mb(value: float) -> str:
    return f"{value / MB:.0f} MB"


def seconds(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.1f} s"


def render(results: dict[str, Result], context: dict[str, Any]) -> str:
    r = results
    engine = docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    bases = base_images(context["build_args"])
    standins = any("bankchurn-standin" in value for value in bases.values())
    cold_note = (
        "not measured (--skip-cold-build)" if context["skip_cold_build"] else
        "`--no-cache`, but BuildKit's pip cache mount stays warm (wheels are not downloaded "
        "again, pip only installs them); production's builder runs `apt-get update` and "
        "`apt-get install` from the Debian archive every time"
    )  # fmt: skip
    command = shlex.join([".venv/bin/python", "benchmarks/images.py", *context["argv"]])
    (l1, l5, l15), (e1, e5, e15) = context["load"]
    lines = [
        "# Images: sizes, start-up, memory, hardening, build times",
        "",
        f"Generated by `{command}` (`benchmarks/images.py`); do not edit by hand.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the run took "
        f"{context['minutes']:.1f} min",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Docker engine {engine}",
        f"- Load average (1/5/15 min) at start {l1:.2f} / {l5:.2f} / {l15:.2f}, at end "
        f"{e1:.2f} / {e5:.2f} / {e15:.2f}: the machine is shared, timings are noisy",
        "- Base images: "
        + (
            "**local stand-ins** (no registry reachable; `scripts/images/standins.sh`), wheels "
            "from the loopback wheelhouse"
            if standins
            else "upstream"
        )
        + ": "
        + ", ".join(f"`{name}={value}`" for name, value in sorted(bases.items())),
        f"- Build args (`.cache/images/build-args`, written by `scripts/images/build.sh`): "
        f"`{shlex.join(context['build_args'])}`",
        "- Run options: level1 as written; the others hardened: "
        f"`{shlex.join(HARDENED)}` (one worker writes nothing, so no `--tmpfs` is needed); "
        "port published on 127.0.0.1 only",
        "",
        "| | " + " | ".join(image.title for image in IMAGES) + " |",
        "|---|" + "---|" * len(IMAGES),
    ]

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(str(cell(r[i.key])) for i in IMAGES) + " |")

    runs = context["runs"]
    row("size, uncompressed (`docker image inspect` .Size)", lambda x: mb(x.size))
    row(r"size, compressed (`docker save` \| gzip -6)", lambda x: mb(x.compressed))
    row("layers", lambda x: x.layers)
    row("Config.User", lambda x: f"`{x.config_user}`")
    row("uid of the running processes (`docker top`)", lambda x: x.uids)
    row("/bin/sh present", lambda x: "yes" if x.shell else "no")
    row(
        "pip present (pip executables, real paths; `import pip` by the serving python)",
        lambda x: x.pip,
    )
    row("HEALTHCHECK defined", lambda x: "yes" if x.healthcheck else "no")
    row("reaches `healthy` (s after `docker run`)", lambda x: x.healthy)
    row(f"cold start to /ready 200, median of {runs}",
        lambda x: f"**{statistics.median(x.starts):.2f} s**")  # fmt: skip
    row("cold start min / max", lambda x: f"{min(x.starts):.2f} / {max(x.starts):.2f} s")
    row("RSS idle after ready (sum of processes' RSS)", lambda x: f"{x.rss_idle:.0f} MiB")
    row(f"RSS after {PREDICTS} /predict", lambda x: f"{x.rss_after:.0f} MiB")
    row("cgroup memory idle / after (`docker stats`)",
        lambda x: f"{x.cgroup_idle} / {x.cgroup_after}")  # fmt: skip
    row(f"/predict answered 200 (of {PREDICTS})", lambda x: x.predicts_ok)
    row("`docker stop -t 10`: time, exit code",
        lambda x: f"{x.stop_seconds:.1f} s, {x.exit_code.strip()}")  # fmt: skip
    row("build, cold (`--no-cache`)", lambda x: seconds(x.build_cold))
    row("build, warm (nothing changed)", lambda x: seconds(x.build_warm))
    row("hadolint findings", lambda x: len(x.hadolint) or "none")

    prod, level1, level2 = r["production"], r["level1"], r["level2"]
    prod_start = statistics.median(prod.starts)
    goals = [
        ("production uncompressed", f"<= {GOALS['production_uncompressed_mb']} MB",
         mb(prod.size), prod.size <= GOALS["production_uncompressed_mb"] * MB),
        ("production compressed", f"<= {GOALS['production_compressed_mb']} MB",
         mb(prod.compressed), prod.compressed <= GOALS["production_compressed_mb"] * MB),
        ("level2 uncompressed", f"<= {GOALS['level2_uncompressed_mb']} MB",
         mb(level2.size), level2.size <= GOALS["level2_uncompressed_mb"] * MB),
        ("production cold start (median)", f"<= {GOALS['production_cold_start_s']:.0f} s",
         f"{prod_start:.2f} s", prod_start <= GOALS["production_cold_start_s"]),
    ]  # fmt: skip
    lines += ["", "## Goals", "", "| goal | bar | measured | met |", "|---|---|---|---|"]
    lines += [f"| {g} | {bar} | {value} | {'yes' if ok else '**no**'} |"
              for g, bar, value, ok in goals]  # fmt: skip

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x"

    sk = r["sklearn"]
    lines += [
        "", "## Ratios", "",
        "| | uncompressed | compressed | cold start (median) | RSS after predicts |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for label, a, b in (("level2 / level1", level2, level1), ("production / level1", prod, level1),
                        ("production / level2", prod, level2),
                        ("production (sklearn) / production", sk, prod)):  # fmt: skip
        lines.append(
            f"| {label} | {ratio(a.size, b.size)} | {ratio(a.compressed, b.compressed)} | "
            f"{ratio(statistics.median(a.starts), statistics.median(b.starts))} | "
            f"{ratio(a.rss_after, b.rss_after)} |"
        )
    lines += ["", "## hadolint (`.venv-tools/bin/hadolint`, the repository's `.hadolint.yaml`)", ""]
    for image in IMAGES[:3]:
        findings = r[image.key].hadolint
        lines.append(f"- `{image.dockerfile}`: " + ("clean" if not findings else
                     f"{len(findings)} findings (the lesson level 1 teaches):"))  # fmt: skip
        lines += [f"  - {finding}" for finding in findings]
    lines += [
        "",
        "## How each number is taken",
        "",
        "- Sizes in decimal MB. Compressed: `docker save` streamed through zlib level 6 in a "
        "gzip container (what `gzip -6` does), never written to disk; a registry stores each "
        "layer compressed separately, so its total is close to this.",
        "- Cold start: from just before `docker run -d` to the first `GET /ready` answering 200 "
        f"(polled every 50 ms), {runs} fresh containers per image, one after the other.",
        "- The first container of each image also gives: the uids (`docker top -o pid,uid,rss`), "
        f"RSS 1 s after ready and after {PREDICTS} sequential single-customer `POST /predict`, "
        "the healthcheck (`.State.Health.Status` polled until `healthy`, at most "
        f"{HEALTHY_TIMEOUT:.0f} s), then the time `docker stop -t 10` takes and the exit code.",
        "- Shell: `docker run --entrypoint /bin/sh IMAGE -c true` succeeds. pip: a probe run "
        "with the image's `python` lists `pip`/`pip3` on PATH, /usr/local/bin, /usr/bin, and "
        "whether `import pip` resolves.",
        f"- Builds: `{DOCKER} build` (BuildKit) with the recorded build args, the existing "
        f"image's VERSION/REVISION/CREATED labels, timed by wall clock. Cold: {cold_note}; "
        f"timed builds are tagged `{BUILD_TAG}:*` and removed at the end (the project's tags "
        "are left alone). Warm: the same build again right after it, nothing changed (every "
        "step cached).",
        "- The sklearn variant is built by this script: `--build-arg BACKEND=sklearn`, tag "
        f"`{IMAGES[3].tag}`, the same build args.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"images.py: {error}", file=sys.stderr)
        sys.exit(1)
