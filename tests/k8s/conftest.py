"""Fixtures for the Kubernetes manifests' tests: every deployable kustomization, rendered once."""

from __future__ import annotations

import pytest

from tests.k8s.k8stools import DEPLOYABLES, Manifest, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """{"base": [...], "overlays/production": [...], ...}: what `kubectl apply -k` would send."""
    return {name: render(directory) for name, directory in DEPLOYABLES.items()}


@pytest.fixture(scope="session")
def mlflow_overlay(rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    """The overlay that delivers the model from the MLflow registry (components/mlflow-model)."""
    return rendered["overlays/production-mlflow"]


@pytest.fixture(params=sorted(DEPLOYABLES))
def objects(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    """Each deployable's objects in turn: a test taking this runs once per kustomization."""
    found: list[Manifest] = rendered[request.param]
    return found
