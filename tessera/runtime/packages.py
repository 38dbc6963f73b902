"""Debian packages the local runtime installs when they are missing."""

from __future__ import annotations

import shutil
import subprocess

from .exceptions import RuntimeSetupError

_UPDATED = False


def apt_install(packages: list[str], why: str) -> None:
    global _UPDATED
    if shutil.which("apt-get") is None:
        raise RuntimeSetupError(f"{why}: install {' '.join(packages)} with your package manager.")
    if not _UPDATED:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)  # noqa: S603, S607
        _UPDATED = True
    result = subprocess.run(  # noqa: S603, S607 - package names are ours
        ["apt-get", "install", "-y", "-qq", *packages],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    if result.returncode != 0:
        raise RuntimeSetupError(
            f"{why}, but `apt-get install {' '.join(packages)}` failed "
            f"(exit {result.returncode}); run it by hand as root.\n{result.stderr[-1500:]}"
        )
