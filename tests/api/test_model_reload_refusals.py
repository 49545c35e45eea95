"""Following the model folder in one app: a bad candidate never serves.

Tampered, half-written, trained for other library versions or features, an unreadable or
missing card, a symlink loop: refused, the current model keeps serving, one log line says
why, and the folder is tried again only once it changes. In-process (TestClient, the real
lifespan and loader) with a 50 ms poll.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from app import metrics as names
from bankchurn.artifacts import CARD_FILE, MODEL_FILE, ONNX_FILE
from tests.api.model_shelf import ModelShelf
from tests.api.reload_checks import (
    POLL,
    assert_still_serving,
    error_lines,
    eventually,
    reloads,
    served_version,
    shelf_with_v1,
)


@pytest.fixture
def shelf(model_dir: Path, tmp_path: Path) -> ModelShelf:
    return shelf_with_v1(model_dir, tmp_path)


def test_reload_refuses_a_tampered_model_and_keeps_serving(
    make_client, shelf, scrape, customer, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v3", tamper=True)
    shelf.publish("v3")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v3 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)  # one line, not one per poll
    assert line["message"].startswith(
        "model reload refused (checksum_mismatch), still serving v1: "
    )
    assert "versions/v3/model.joblib has sha256" in line["message"]
    assert (line["reason"], line["trigger"], line["model_version"]) == (
        "checksum_mismatch",
        "poll",
        "v1",
    )
    assert scrape(client).value(names.MODEL_READY) == 1
    # The refused state lasts as long as the bad model is published, not one scrape.
    time.sleep(10 * POLL)
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 1


def test_a_refused_folder_is_tried_again_only_once_it_changes(
    make_client, shelf, scrape, customer, model_dir
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    tampered = shelf.add("v3", tamper=True)
    shelf.publish("v3")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v3 refused")

    time.sleep(20 * POLL)  # twenty polls of the same bad folder
    assert reloads(scrape, client) == {"loaded": 0, "refused": 1}
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 1

    for artifact in (MODEL_FILE, ONNX_FILE):  # repaired in place: same path, new files
        shutil.copyfile(model_dir / artifact, tampered / artifact)
    eventually(lambda: served_version(client) == "v3", "the repaired v3 served")
    assert_still_serving(client, "v3", customer)
    assert reloads(scrape, client) == {"loaded": 1, "refused": 1}
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 0


def test_a_half_written_folder_is_refused_then_served_once_complete(
    make_client, shelf, scrape, customer, model_dir
):
    """The card written before the artifact (a copy in progress) is never served."""
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    partial = shelf.add("v2")
    (partial / MODEL_FILE).unlink()
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "the partial v2 refused")
    assert_still_serving(client, "v1", customer)

    with (partial / MODEL_FILE).open("wb") as stream:  # half of the artifact so far
        stream.write((model_dir / MODEL_FILE).read_bytes()[:1000])
    eventually(lambda: reloads(scrape, client)["refused"] == 2, "the truncated v2 refused")
    assert_still_serving(client, "v1", customer)

    shutil.copyfile(model_dir / MODEL_FILE, partial / MODEL_FILE)
    eventually(lambda: served_version(client) == "v2", "the complete v2 served")
    assert reloads(scrape, client) == {"loaded": 1, "refused": 2}


def _old_scikit_learn(card: dict[str, Any]) -> None:
    card["versions"]["scikit-learn"] = "0.24.2"


def _other_features(card: dict[str, Any]) -> None:
    card["schema"]["features"][0]["name"] = "credit_rating"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [(_old_scikit_learn, "version_mismatch"), (_other_features, "schema_mismatch")],
)
def test_reload_refuses_a_model_this_service_cannot_serve(
    make_client, shelf, scrape, customer, edit, reason, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v2", edit=edit)
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v2 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)
    assert line["message"].startswith(f"model reload refused ({reason}), still serving v1: ")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda folder: (folder / CARD_FILE).write_text('{"model_ver'), "card_invalid"),
        (lambda folder: (folder / CARD_FILE).unlink(), "card_missing"),
    ],
)
def test_reload_refuses_an_unreadable_or_missing_card(
    make_client, shelf, scrape, customer, damage, reason, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    damage(shelf.add("v2"))
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v2 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)
    assert line["message"].startswith(f"model reload refused ({reason}), still serving v1: ")


def test_a_refused_candidate_of_an_unready_service_updates_the_reason(
    make_client, model_dir, tmp_path, scrape
):
    shelf = ModelShelf(model_dir, tmp_path / "models")
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v1", tamper=True)
    shelf.publish("v1")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v1 refused")

    unready = client.get("/ready")
    assert unready.status_code == 503
    assert unready.json()["error"]["reason"] == "checksum_mismatch"
    # Nothing is served: model_ready 0 says so (BankchurnModelNotReady), not this gauge.
    metrics = scrape(client)
    assert metrics.value(names.MODEL_READY) == 0
    assert metrics.value(names.MODEL_CANDIDATE_REFUSED) == 0


def test_a_symlink_loop_is_refused_and_the_folder_still_followed(make_client, shelf, scrape):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    loop = shelf.link.with_name("loop")
    loop.symlink_to("loop")
    temporary = shelf.link.with_name(".champion.loop")
    temporary.symlink_to("loop")
    temporary.replace(shelf.link)
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "the loop refused")
    assert served_version(client) == "v1"

    shelf.add("v2")
    shelf.publish("v2")
    eventually(lambda: served_version(client) == "v2", "v2 served after the loop")
