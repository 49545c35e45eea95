"""The API's resources, startup probe and autoscaling follow from the measured capacity.

Every expected number is recomputed from docs/benchmarks.json with the rules in tooling/sizing.py,
so a new measurement that changes one fails here until the manifests (and the capacity
table in docs/kubernetes.md: `make k8s-sizing`) say the same.
"""

from __future__ import annotations

import pytest

from tests.k8s.k8stools import Manifest, container, env, millicores, pod_spec, quantity_mib, the
from tooling.capacity import Capacity, read_capacity
from tooling.sizing import (
    CORES_PER_WORKER,
    GUIDE,
    MAX_REPLICAS,
    MIN_REPLICAS,
    UTILIZATION_TARGET,
    WORKERS_PER_POD,
    capacity_table,
    guide_with_table,
    pods_for,
    size,
)


@pytest.fixture(scope="module")
def capacity() -> Capacity:
    try:
        return read_capacity()
    except FileNotFoundError as missing:
        pytest.fail(str(missing))


def test_the_capacity_was_measured_in_the_pods_shape(
    capacity: Capacity, objects: list[Manifest]
) -> None:
    """One worker on one core: otherwise the measured requests/s are not one pod's."""
    api = container(objects)
    assert int(env(api)["WEB_CONCURRENCY"]) == WORKERS_PER_POD == capacity.workers
    assert int(env(api)["BANKCHURN_INFERENCE_THREADS"]) == CORES_PER_WORKER
    limit = millicores(api["resources"]["limits"]["cpu"])
    assert limit == round(1000 * capacity.cpus) == 1000 * CORES_PER_WORKER * WORKERS_PER_POD


def test_cpu_and_memory_follow_from_the_measurement(
    capacity: Capacity, objects: list[Manifest]
) -> None:
    expected = size(capacity)
    resources = container(objects)["resources"]
    assert millicores(resources["requests"]["cpu"]) == expected.cpu_millicores
    assert millicores(resources["limits"]["cpu"]) == expected.cpu_millicores
    assert quantity_mib(resources["requests"]["memory"]) == expected.memory_request_mib
    assert quantity_mib(resources["limits"]["memory"]) == expected.memory_limit_mib


def test_the_memory_limit_holds_the_loaded_process_and_a_full_tmp(
    capacity: Capacity, objects: list[Manifest]
) -> None:
    """The in-memory /tmp is charged to the same limit as the process."""
    limit = quantity_mib(container(objects)["resources"]["limits"]["memory"])
    in_memory = sum(
        quantity_mib(volume["emptyDir"]["sizeLimit"])
        for volume in pod_spec(objects)["volumes"]
        if volume.get("emptyDir", {}).get("medium") == "Memory"  # not the API keys' Secret
    )
    assert limit >= capacity.rss_loaded_mib + in_memory


def test_the_startup_probe_budget_follows_from_the_measured_cold_start(
    capacity: Capacity, objects: list[Manifest]
) -> None:
    expected = size(capacity)
    probe = container(objects)["startupProbe"]
    assert probe["periodSeconds"] == expected.startup_period_s
    assert probe["failureThreshold"] == expected.startup_failure_threshold
    assert probe["periodSeconds"] * probe["failureThreshold"] > 10 * capacity.cold_start_s


def test_the_autoscaler_keeps_pods_at_the_planned_share_of_their_capacity(
    capacity: Capacity, objects: list[Manifest]
) -> None:
    spec = the(objects, "HorizontalPodAutoscaler")["spec"]
    (metric,) = spec["metrics"]
    assert metric["resource"]["target"]["averageUtilization"] == round(100 * UTILIZATION_TARGET)
    assert metric["resource"]["target"]["averageUtilization"] == (
        size(capacity).hpa_cpu_utilization_percent
    )
    assert (spec["minReplicas"], spec["maxReplicas"]) == (MIN_REPLICAS, MAX_REPLICAS)


def test_pods_for_a_load_rounds_up_at_the_planning_capacity(capacity: Capacity) -> None:
    per_pod = capacity.single_row_rps * UTILIZATION_TARGET
    assert pods_for(per_pod * 4.5, capacity) == 5
    assert pods_for(per_pod * 7.2, capacity) == 8
    assert pods_for(1, capacity) == MIN_REPLICAS


def test_the_guides_capacity_table_is_current(capacity: Capacity) -> None:
    guide = GUIDE.read_text()
    assert guide_with_table(guide, capacity_table(capacity)) == guide, (
        "docs/kubernetes.md's capacity table is stale: run `make k8s-sizing`"
    )


def test_the_readme_plans_capacity_with_the_measured_numbers(capacity: Capacity) -> None:
    """README's capacity-planning sentence quotes the benchmark and this module's formula."""
    readme = (GUIDE.parents[1] / "README.md").read_text()
    planned = size(capacity).planning_rps_per_pod
    quoted = [
        f"served\n{capacity.single_row_rps:,.0f} single-customer requests/s",
        f"planned at {round(100 * UTILIZATION_TARGET)} % that is {planned:,.0f} requests/s per pod",
        f"1,000 requests/s needs {pods_for(1_000, capacity)} pods",
        f"5,000 requests/s needs {pods_for(5_000, capacity)}",
        f"maximum, carry {MAX_REPLICAS * planned:,.0f}",
    ]
    flat = " ".join(readme.split())
    for sentence in quoted:
        assert " ".join(sentence.split()) in flat, (
            f"README should say {sentence!r} (make k8s-sizing)"
        )
