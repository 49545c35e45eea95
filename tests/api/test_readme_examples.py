"""README's reason-code example is the committed model's real answer, so it cannot go stale."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Reason codes"


def readme_example() -> tuple[str, dict[str, object], dict[str, object]]:
    """The curl command's path and body, and the answer the README shows for it."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    command = re.search(r"```bash\n(curl .*?)\n```", section, re.S)
    answer = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert command, f"README's {SECTION!r} section has no curl example"
    assert answer, f"README's {SECTION!r} section shows no answer"
    words = shlex.split(command.group(1).split("|")[0])
    url = next(word for word in words if word.startswith("localhost:8000/"))
    body = json.loads(words[words.index("-d") + 1])
    return url.removeprefix("localhost:8000"), body, json.loads(answer.group(1))


def test_the_readme_shows_the_answer_the_committed_model_gives(client) -> None:
    path, body, shown = readme_example()

    response = client.post(path, json=body)

    assert path == "/predict?explain=true"
    assert response.status_code == 200
    assert response.json() == shown, (
        "README.md's reason-code answer is stale; paste this one:\n"
        + json.dumps(response.json(), indent=4)
    )
