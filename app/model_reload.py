"""Following the champion: notice a different model folder, verify the candidate, swap.

Each worker checks ``BANKCHURN_MODEL_DIR`` every ``BANKCHURN_MODEL_POLL_SECONDS`` (and
at once on SIGHUP). The folder is resolved through symlinks first, because the compose
train job publishes a model by repointing ``/models/champion`` in one atomic rename.
What is compared is a ``FolderIdentity``: the resolved path, the sha256 of the card's
bytes, and the size, inode and mtime of every artifact the card lists. So a swapped
symlink, a rewritten card and an artifact replaced in place are all noticed, and a
half-written folder (card before artifact, or the reverse) is refused now and tried
again once the writer touches it again, never in a loop on the same bad files.

The candidate is loaded, verified and warmed up by ``load_and_warm_up`` (everything
start-up checks) on a thread of its own, so the served model keeps answering on the
event loop and on its inference thread. That thread then stays the candidate's
inference thread: OpenMP's thread limit belongs to the thread that set it. The swap
itself is one assignment on the event loop (``ModelState``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.model_loading import LoadedModel, load_and_warm_up
from app.settings import Settings
from bankchurn.artifacts import CARD_FILE


@dataclass(frozen=True)
class FolderIdentity:
    """What a model folder holds, cheaply: equal identities mean "nothing to reload"."""

    path: Path
    card_sha256: str | None  # None: no card could be read
    artifacts: tuple[tuple[str, int, int, int], ...]  # (name, size, inode, mtime_ns)


def folder_identity(model_dir: Path) -> FolderIdentity:
    """Resolve ``model_dir`` and fingerprint what is there now; never raises for I/O."""
    try:
        path = model_dir.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the load then says what is wrong
        return FolderIdentity(model_dir, None, ())
    try:
        card_bytes = (path / CARD_FILE).read_bytes()
    except OSError:
        return FolderIdentity(path, None, ())
    return FolderIdentity(
        path, hashlib.sha256(card_bytes).hexdigest(), _artifact_stats(path, card_bytes)
    )


def _artifact_stats(path: Path, card_bytes: bytes) -> tuple[tuple[str, int, int, int], ...]:
    try:
        listed = json.loads(card_bytes).get("artifacts", {})
    except (ValueError, AttributeError):  # not JSON, or not an object: the load refuses it
        return ()
    if not isinstance(listed, dict):
        return ()
    stats = []
    for name in sorted(str(name) for name in listed):
        try:
            stat = (path / name).stat()
        except (OSError, ValueError):
            stats.append((name, -1, -1, -1))
            continue
        stats.append((name, stat.st_size, stat.st_ino, stat.st_mtime_ns))
    return tuple(stats)


async def load_candidate(settings: Settings, identity: FolderIdentity) -> LoadedModel:
    """Load, verify and warm up the model at ``identity.path`` on a new thread.

    The resolved path is loaded, not the symlink, so a link repointed during the load
    cannot mix two folders' files. Raises ``ModelLoadError`` when the model is refused.
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bankchurn-model")
    candidate_settings = settings.model_copy(update={"model_dir": identity.path})
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(executor, load_and_warm_up, candidate_settings, executor)
    except BaseException:
        executor.shutdown(wait=False)  # a load still running finishes on its own
        raise


class CheckTrigger:
    """When to look at the folder again: every ``poll_seconds`` (0 = never) or on demand."""

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._now = asyncio.Event()

    def check_now(self) -> None:
        """Ask for a check (the SIGHUP handler); safe to call from the event loop only."""
        self._now.set()

    async def wait(self) -> str:
        """Sleep until the next check is due; return what triggered it."""
        timeout = self.poll_seconds or None
        try:
            await asyncio.wait_for(self._now.wait(), timeout)
        except TimeoutError:
            return "poll"
        self._now.clear()
        return "signal"
