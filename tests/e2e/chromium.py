"""Find Debian's Chromium for the browser tests, or install it, or say exactly what to run.

The README's test command must pass on a fresh machine: Playwright cannot download its own
browsers here, so the tests drive the distribution's Chromium. In order:
TELEMART_CHROMIUM, /usr/bin/chromium, `chromium` or `chromium-browser` on PATH; if none
is there and we are root on a Debian-like system, `apt-get install chromium fonts-nanum`
(the font makes Korean readable in screenshots); otherwise the tests fail with the command
to run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.debian import apt_install

PACKAGES = ("chromium", "fonts-nanum")
INSTALL_HINT = (
    "no Chromium for the browser tests: run `sudo apt-get update && sudo apt-get install -y "
    "chromium fonts-nanum` (Debian/Ubuntu), or point TELEMART_CHROMIUM at a Chromium binary"
)


def find_chromium() -> Path | None:
    given = os.environ.get("TELEMART_CHROMIUM")
    if given:
        return Path(given) if Path(given).is_file() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):  # fmt: skip
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def install_chromium() -> str | None:
    """Install Debian's chromium as root with apt-get; None when done, else why not."""
    return apt_install(PACKAGES)


def chromium_or_reason() -> tuple[Path | None, str]:
    """The Chromium to launch, or None and the message the tests fail with."""
    found = find_chromium()
    if found is not None or os.environ.get("TELEMART_CHROMIUM"):
        return found, f"TELEMART_CHROMIUM={os.environ.get('TELEMART_CHROMIUM')} is not a file"
    why = install_chromium()
    found = find_chromium()
    if found is not None:
        return found, ""
    return None, INSTALL_HINT + (f" ({why})" if why else "")
