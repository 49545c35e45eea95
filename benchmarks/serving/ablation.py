"""The ablation: what each layer of a bankchurn request costs, found by switching one off.

The real app (``create_app``, the committed model, the ONNX backend, every feature on) is
driven in this process through ASGI, without a socket, one request after the other. Each
variant is that app with one layer off: through the user settings that exist for it
(BANKCHURN_ACCESS_LOG, BANKCHURN_HTTP_METRICS) or, for layers no deployment may turn off,
by this module alone (a middleware left out of the stack, a function of the route replaced
for the variant's runs). A layer's cost is the CPU time per request of its reference
variant minus that of the variant without it. CPU time of this process (``process_time``,
the inference thread included), not wall time, and the least of the rounds: other work on
the machine only adds to it; the rounds take the variants in turn, so a slower minute hits
every variant alike.

The HTTP server (uvicorn, httptools) is not in these numbers: it costs every variant the
same, and the contestants' table above measures it with the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

import app.predict_fast_path as fast_path
from app.fastapi_app import create_app
from app.metrics import ServiceMetrics
from app.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.request_guards import RequestGuardMiddleware
from app.settings import Settings
from benchmarks.serving.ablation_patches import (
    FixedScore,
    Patch,
    constant_answers,
    replaced,
    without_validation,
)
from benchmarks.serving.adapters import bankchurn_payload, benchmark_customers
from benchmarks.serving.inprocess import await_model, request
from benchmarks.serving.payload import Payload

FULL = "everything on"


@dataclass(frozen=True)
class Variant:
    """The app with ``layer`` off; its cost is measured against ``reference``'s time."""

    layer: str
    how: str
    settings: dict[str, Any] = field(default_factory=dict)
    without: tuple[Any, ...] = ()  # middleware classes left out of the stack
    quiet_drift: bool = False
    patch: Patch | None = None
    reference: str = FULL
    # True for work the variant adds (the route's way instead of the fast path): its cost is
    # the variant's time minus the reference's.
    adds: bool = False


def variants() -> list[Variant]:
    return [
        Variant(FULL, "the service as it runs: JSON access log, HTTP and model metrics, ..."),
        Variant("access log", "BANKCHURN_ACCESS_LOG=false", {"access_log": False}),
        Variant("HTTP metrics", "BANKCHURN_HTTP_METRICS=false", {"http_metrics": False}),
        Variant(
            "request id",
            "no RequestContextMiddleware, against BANKCHURN_ACCESS_LOG=false (bench only)",
            {"access_log": False},
            without=(RequestContextMiddleware,),
            reference="access log",
        ),
        Variant(
            "body size limit",
            "no BodySizeLimitMiddleware (bench only)",
            without=(BodySizeLimitMiddleware,),
        ),
        Variant(
            "body timeout, in-flight limit",
            "no RequestGuardMiddleware (bench only)",
            without=(RequestGuardMiddleware,),
        ),
        Variant(
            "drift counters",
            "ServiceMetrics.record_inputs counts nothing (bench only)",
            quiet_drift=True,
        ),
        Variant(
            "FastAPI routing and dependency resolution",
            "what the fast path saves: BANKCHURN_PREDICT_FAST_PATH=false, its time minus "
            "everything on's",
            {"predict_fast_path": False},
            adds=True,
        ),
        Variant(
            "request validation",
            "bodies built unchecked (model_construct) where the fast path (and FastAPI, for "
            "the requests it hands on) validates them (bench only)",
            patch=without_validation(fast_path),
        ),
        Variant(
            "scoring",
            "encoding, model and predictions replaced by the first call's answer (bench only)",
            patch=replaced("score", FixedScore()),
        ),
        Variant(
            "response serialisation",
            "a constant body instead of the prediction's JSON (bench only)",
            patch=constant_answers(),
        ),
    ]


def build(variant: Variant, model_dir: Path) -> FastAPI:
    settings = Settings(model_dir=model_dir, backend="onnx", **variant.settings)
    app = create_app(settings, registry=CollectorRegistry())
    # The stack is built on the first request, from this list: a layer left out is never run.
    app.user_middleware = [m for m in app.user_middleware if m.cls not in variant.without]
    if variant.quiet_drift:
        metrics: ServiceMetrics = app.state.metrics
        metrics.record_inputs = lambda reference, matrix: None  # type: ignore[method-assign]
    return app


async def _measure(
    built: dict[str, tuple[Variant, FastAPI]], payloads: dict[str, Payload], requests: int,
    rounds: int,
) -> dict[str, dict[str, list[float]]]:  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        for _, app in built.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
            await await_model(app)
        times: dict[str, dict[str, list[float]]] = {k: {n: [] for n in built} for k in payloads}
        for round_ in range(rounds + 1):  # round 0 warms every variant up, unrecorded
            for kind, payload in payloads.items():
                for name, (variant, app) in built.items():
                    with variant.patch() if variant.patch else contextlib.nullcontext():
                        started = time.process_time()
                        for _ in range(requests if round_ else max(requests // 5, 1)):
                            await request(app, payload)
                        spent = time.process_time() - started
                    if round_:
                        times[kind][name].append(spent / requests * 1e6)
        return times


def measure_ablation(model_dir: Path, requests: int, rounds: int) -> dict[str, Any]:
    """Microseconds of CPU per request for each variant, and each layer's cost."""
    customers = benchmark_customers()
    payloads = {
        "single": bankchurn_payload(customers[:1], None),  # type: ignore[arg-type]
        "batch": bankchurn_payload(customers, None),  # type: ignore[arg-type]
    }
    chosen = variants()
    built = {v.layer: (v, build(v, model_dir)) for v in chosen}
    # The access log goes where the server's would (a pipe, a file); not into this output.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        times = asyncio.run(_measure(built, payloads, requests, rounds))
    result: dict[str, Any] = {"requests": requests, "rounds": rounds, "layers": []}
    # The least of the rounds: work elsewhere on the machine only ever adds CPU time here.
    least = {kind: {n: min(t) for n, t in ts.items()} for kind, ts in times.items()}
    result["full_us"] = {kind: least[kind][FULL] for kind in payloads}
    for variant in chosen[1:]:
        result["layers"].append(
            {
                "layer": variant.layer,
                "how": variant.how,
                "against": variant.reference,
                "cost_us": {kind: _cost(variant, least[kind]) for kind in payloads},
                "variant_us": {kind: least[kind][variant.layer] for kind in payloads},
            }
        )
    print(
        "ablation: " + ", ".join(
            f"{layer['layer']} {layer['cost_us']['single']:.0f} us" for layer in result["layers"]
        ),
        flush=True,
    )  # fmt: skip
    return result


def _cost(variant: Variant, least: dict[str, float]) -> float:
    """Microseconds per request of the variant's layer: what switching it off saves, or
    for a variant that adds work (``adds``), what that work costs."""
    difference = least[variant.layer] - least[variant.reference]
    return difference if variant.adds else -difference


def render_ablation(ablation: dict[str, Any] | None) -> list[str]:
    """The report's ablation section (nothing when the run had none)."""
    if not ablation:
        return []
    full = ablation["full_us"]
    out = [
        "",
        "## Where a request's time goes: one layer off at a time",
        "",
        "bankchurn's app alone (no HTTP server), ONNX backend, every feature on, driven "
        "in-process through ASGI (benchmarks/serving/ablation.py): CPU time per request, "
        f"{ablation['rounds']} rounds of {ablation['requests']} requests that take "
        "the variants in turn (the least of the rounds). With everything on: "
        f"{full['single']:.0f} us for one customer, {full['batch']:.0f} us for a batch of 100. "
        "A layer's cost is its reference's time minus the time without it; differences "
        "of a few microseconds are noise. Layers marked *bench only* cannot be switched "
        "off in the service.",
        "",
        "| layer | switched off by | against | one customer | batch of 100 |",
        "|---|---|---|---:|---:|",
    ]
    for layer in ablation["layers"]:
        cost = layer["cost_us"]
        out.append(
            f"| {layer['layer']} | {layer['how']} | {layer['against']} "
            f"| {cost['single']:.0f} us ({cost['single'] / full['single']:.0%}) "
            f"| {cost['batch']:.0f} us ({cost['batch'] / full['batch']:.0%}) |"
        )
    return out


def main() -> None:
    """``python -m benchmarks.serving.ablation``: the table alone, printed (``python -m
    benchmarks.serving`` writes it into docs/benchmarks.md with the rest)."""
    from tooling.paths import MODEL_DIR

    print("\n".join(render_ablation(measure_ablation(MODEL_DIR, 300, 5))))


if __name__ == "__main__":
    main()
