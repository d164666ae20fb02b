"""An embedded PostgreSQL for machines without a server.

The binaries come from the `pgserver` wheel; we drive `initdb` and `pg_ctl`
ourselves rather than through pgserver's helper because, as root, that helper
makes every folder above the data folder world-traversable. PostgreSQL will not
run as root, so as root we start it inside a user namespace where it has a
non-zero uid that maps back to root: the data folder stays 0700 and owned by
root, and no permission above it changes.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from config.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
SUPERUSER = "postgres"
# Any non-zero uid: inside the namespace PostgreSQL sees it, outside it is root.
NAMESPACE_UID = 1000


def _bin_dir() -> Path:
    # Located, not imported: importing pgserver runs its own start-up code.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseUnavailable("pgserver is not installed: set TELEMART_DATABASE_URL")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    unshare = shutil.which("unshare")
    if unshare is None:
        raise DatabaseUnavailable(
            "running as root needs util-linux `unshare` to start the embedded PostgreSQL; "
            "install it or set TELEMART_DATABASE_URL"
        )
    return [
        unshare, "--user",
        f"--map-user={NAMESPACE_UID}", f"--map-group={NAMESPACE_UID}",
        *argv,
    ]  # fmt: skip


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running_pid_and_port(pgdata: Path) -> tuple[int, int] | None:
    """Read postmaster.pid; None when no live server owns the folder."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return pid, port


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`.

    `start()` reuses a server another Telemart process already started on the
    same folder; only the process that started it stops it.
    """

    pgdata: Path
    port: int = 0
    started_here: bool = False

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        self.pgdata = self.pgdata.resolve()
        running = _running_pid_and_port(self.pgdata)
        if running is not None:
            self.port = running[1]
            log.info("embedded PostgreSQL already running on port %s", self.port)
            return self.url
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self.port = _free_port()
        logfile = self.pgdata / "server.log"
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c max_connections=300 -c fsync=on -c shared_buffers=256MB"
        )
        cmd = [str(_bin_dir() / "pg_ctl"), "start", "-w", "-t", str(int(START_TIMEOUT_S)),
               "-D", str(self.pgdata), "-l", str(logfile), "-o", opts]  # fmt: skip
        result = subprocess.run(_as_postgres_user(cmd), capture_output=True, text=True)
        if result.returncode != 0:
            tail = logfile.read_text()[-2000:] if logfile.exists() else ""
            raise DatabaseUnavailable(
                f"embedded PostgreSQL did not start: {result.stderr.strip()}\n{tail}"
            )
        self.started_here = True
        log.info("embedded PostgreSQL started on port %s (data %s)", self.port, self.pgdata)
        return self.url

    def _initdb(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        cmd = [str(_bin_dir() / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER,
               "--auth=trust", "--encoding=UTF8", "--locale=C"]  # fmt: skip
        result = subprocess.run(_as_postgres_user(cmd), capture_output=True, text=True)
        if result.returncode != 0:
            raise DatabaseUnavailable(f"initdb failed: {result.stderr.strip()}")

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions), if we started it."""
        if not self.started_here:
            return
        running = _running_pid_and_port(self.pgdata)
        self.started_here = False
        if running is None:
            return
        pid = running[0]
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if _running_pid_and_port(self.pgdata) is None:
                return
            time.sleep(0.05)
        log.warning("embedded PostgreSQL did not stop in %ss", STOP_TIMEOUT_S)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
