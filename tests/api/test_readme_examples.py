"""README's example answers are the committed model's real answers, so they cannot go stale.

Each section below shows a ``curl`` command and, in the next ```json block, what it prints:
the test sends the same body to the same path and compares the whole answer, exactly.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tooling.paths import REPO_ROOT

# README section -> the path its example calls.
EXAMPLES = {"## Quickstart": "/predict", "### Reason codes": "/predict?explain=true"}


def readme_example(section: str) -> tuple[str, dict[str, object], dict[str, object]]:
    """The curl command's path and body, and the answer the README shows for it."""
    text = (REPO_ROOT / "README.md").read_text()
    assert section in text, f"README.md has no {section!r} section"
    part = text[text.index(section) :]
    command = re.search(r"```bash\n(curl .*?)\n```", part, re.S)
    answer = re.search(r"```json\n(.*?)\n```", part, re.S)
    assert command, f"README's {section!r} section has no curl example"
    assert answer, f"README's {section!r} section shows no answer"
    words = shlex.split(command.group(1).split("|")[0])
    url = next(word for word in words if word.startswith("localhost:8000/"))
    body = json.loads(words[words.index("-d") + 1])
    return url.removeprefix("localhost:8000"), body, json.loads(answer.group(1))


@pytest.mark.parametrize(("section", "expected_path"), EXAMPLES.items())
def test_the_readme_shows_the_answer_the_committed_model_gives(
    client, section: str, expected_path: str
) -> None:
    path, body, shown = readme_example(section)

    response = client.post(path, json=body)

    assert path == expected_path
    assert response.status_code == 200
    assert response.json() == shown, (
        f"README.md's {section!r} answer is stale; paste this one:\n"
        + json.dumps(response.json(), separators=(",", ":"))
    )
