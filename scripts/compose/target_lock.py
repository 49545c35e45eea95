"""Print the lines of a hash-locked requirements file that apply to the images' Python 3.13.

``pip download --python-version 3.13`` picks wheels for 3.13 but still evaluates environment
markers against the host's interpreter (3.11 here), so a universal lock's
``numpy==2.5.5 ; python_full_version >= '3.12'`` would be skipped and the 3.11 pin fetched
instead. This writes the requirements as the image will resolve them (markers evaluated for
the target, then dropped, hashes kept) for a ``pip download --no-deps`` on the host.

Usage: python3 scripts/compose/target_lock.py LOCK > target.txt
"""

from __future__ import annotations

import re
import sys

from pip._vendor.packaging.markers import Marker

TARGET = {
    "python_version": "3.13",
    "python_full_version": "3.13.5",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


def blocks(text: str) -> list[str]:
    """One string per requirement: its line plus the continued --hash lines."""
    joined = re.sub(r"\\\n", " ", text)
    lines = (line.strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def main(path: str) -> int:
    with open(path, encoding="utf-8") as stream:
        for block in blocks(stream.read()):
            requirement, _, rest = block.partition(" --hash")
            rest = "--hash" + rest if rest else ""
            spec, _, marker = requirement.partition(";")
            if marker.strip() and not Marker(marker.strip()).evaluate(TARGET):
                continue
            print(f"{spec.strip()} {rest}".strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
