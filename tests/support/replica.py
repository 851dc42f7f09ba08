"""A real PostgreSQL streaming replica on this machine, for the read-replica router's tests.

``StreamingPair.start`` starts a primary with the PostgreSQL bundled in PyPI ``pgserver`` (a
dependency, so the tools are always there), takes a ``pg_basebackup -R`` of it and starts that copy
as a hot standby streaming from the primary over its unix socket. The machine's own server (the
suite's) is not used as the primary: it refuses replication connections (its pg_hba.conf has no
``replication`` line) and may be another major version than the bundled tools.

Both servers run as the ``pgserver`` system user when the tests run as root (PostgreSQL refuses
root), as pgserver itself does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class StreamingPair:
    base: Path
    primary_socket: str = ""
    primary_port: int = 0
    replica_socket: str = ""
    replica_port: int = 0

    def __post_init__(self) -> None:
        from pgserver.postgres_server import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.run_as = "pgserver" if os.geteuid() == 0 else None
        self.replica_dir = self.base / "replica" / "data"
        self.server = None

    # --- processes ---------------------------------------------------------------------------

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return subprocess.run(
            [*prefix, *command], check=check, capture_output=True, text=True, timeout=120
        )

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        import pgserver

        self.server = pgserver.get_server(self.base / "primary", cleanup_mode="delete")
        info = self.server.get_postmaster_info()
        self.primary_socket, self.primary_port = str(info.socket_dir), int(info.port)
        self._own(self.base / "replica")
        socket_dir = self.base / "replica" / "socket"
        self._own(socket_dir)
        self.replica_socket, self.replica_port = str(socket_dir), _free_port()
        self._run(
            str(self.bin / "pg_basebackup"),
            "-h",
            self.primary_socket,
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(self.replica_dir),
            "-X",
            "stream",
            "-R",  # standby.signal + primary_conninfo: a streaming standby of the primary
            "-c",
            "fast",
        )
        self.start_replica()

    def start_replica(self) -> None:
        options = (
            f"-p {self.replica_port} -k {self.replica_socket} -c listen_addresses='' "
            "-c hot_standby=on -c hot_standby_feedback=on"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.replica_dir),
            "-l",
            str(self.replica_dir / "replica.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(int(START_TIMEOUT)),
            "start",
        )

    def stop_replica(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.replica_dir),
            "-m",
            "fast",
            "-w",
            "stop",
            check=False,
        )

    def stop(self) -> None:
        self.stop_replica()
        if self.server is not None:
            self.server.cleanup()
            self.server = None
        shutil.rmtree(self.base, ignore_errors=True)

    # --- Django ------------------------------------------------------------------------------

    def database_settings(self, base: dict, *, replica: bool) -> dict:
        """Django settings for the primary or the replica, shaped like ``base`` (the suite's)."""
        return {
            **base,
            "NAME": "postgres",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": self.replica_socket if replica else self.primary_socket,
            "PORT": str(self.replica_port if replica else self.primary_port),
            "OPTIONS": {},
            "CONN_MAX_AGE": 0,
            "TEST": {**base.get("TEST", {}), "MIRROR": None},
        }

    def replica_sql(self, statement: str) -> str:
        result = self._run(
            str(self.bin / "psql"),
            "-h",
            self.replica_socket,
            "-p",
            str(self.replica_port),
            "-U",
            "postgres",
            "-XAtc",
            statement,
        )
        return result.stdout.strip()

    def wait_replayed(self, primary_lsn: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while (
            self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{primary_lsn}'::pg_lsn") != "t"
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not replay up to {primary_lsn}")
            time.sleep(0.05)
