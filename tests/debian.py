"""Debian packages the tests need beyond the Python ones (Chromium for the browser tests,
espeak-ng and sox for spoken prompts): installed with apt-get when we are root on a
Debian-like system, so that the README's test command passes on a fresh machine; otherwise
the tests fail saying what to run."""

from __future__ import annotations

import os
import shutil
import subprocess

INSTALL_TIMEOUT_S = 900


def apt_install(packages: tuple[str, ...]) -> str | None:
    """Install Debian packages as root with apt-get; None when done, else why not."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return "not root on a system with apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([apt, "update", "-qq"], check=True, env=env, timeout=INSTALL_TIMEOUT_S,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        subprocess.run([apt, "install", "-y", "-qq", *packages], check=True, env=env,
                       timeout=INSTALL_TIMEOUT_S, stdout=subprocess.DEVNULL)  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        return f"apt-get failed: {exc}"
    return None
