"""`make run` listens on loopback unless HOST says otherwise (the demo logins have a published password)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def runserver_line(*variables):
    result = subprocess.run(
        ["make", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, check=True
    )
    (line,) = [line for line in result.stdout.splitlines() if "manage.py runserver" in line]
    return line


def test_make_run_listens_on_loopback_by_default():
    assert 'runserver "127.0.0.1:8000"' in runserver_line()


def test_make_run_takes_host_and_port():
    assert 'runserver "0.0.0.0:9001"' in runserver_line("HOST=0.0.0.0", "PORT=9001")
