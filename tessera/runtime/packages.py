"""Installing the Debian packages a component needs, when they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess

from .exceptions import RuntimeSetupError


def apt_install(package: str, why: str) -> None:
    """`apt-get install -y package`, or a RuntimeSetupError that says what to run by hand."""
    hint = f"{why}. Install it with: sudo apt-get install -y {package}"
    if shutil.which("apt-get") is None:
        raise RuntimeSetupError(f"{hint} (apt-get not found: install {package} another way)")
    if os.geteuid() != 0:
        raise RuntimeSetupError(f"{hint} (not running as root, so Tessera will not do it)")
    # Noninteractive: a debconf prompt would hang `tessera up` forever.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
        result = subprocess.run(  # noqa: S603 - fixed argv
            argv, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip()[-2000:]
            raise RuntimeSetupError(f"{hint}\n`{' '.join(argv)}` failed:\n{tail}")
