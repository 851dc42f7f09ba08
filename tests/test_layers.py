"""The house stays one-way: the import contract holds, and every published event is handled.

CI runs only the test suite, so the checks of ``make lint`` that keep the layers (README, "Layout")
are run here too: ``lint-imports`` over the contract in pyproject.toml, and the rules of the event
mechanism (apps/core/events.py) that no linter sees.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from apps.core import events

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "apps"

# Event types that may be published with no handler, each with the reason. Empty: every event
# published so far has someone who needs it.
UNHANDLED_ON_PURPOSE: dict[str, str] = {}


def test_imports_keep_to_the_layers_and_no_module_circles():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
            "--no-logo",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    report = result.stdout
    broken = report[report.find("Broken contracts") :] if "Broken contracts" in report else report
    assert result.returncode == 0, f"lint-imports (pyproject.toml) found:\n{broken}{result.stderr}"


def _event_types() -> dict[str, type[events.Event]]:
    """Every event type of the project by name, after importing each ``apps/<app>/events.py``."""
    for module in sorted(APPS.glob("*/events.py")):
        importlib.import_module(f"apps.{module.parent.name}.events")
    found: dict[str, type[events.Event]] = {}
    pending = list(events.Event.__subclasses__())
    while pending:
        event_type = pending.pop()
        pending.extend(event_type.__subclasses__())
        if event_type.__module__.startswith("apps."):
            found[event_type.__name__] = event_type
    return found


def _publications() -> list[tuple[str, str]]:
    """(event type name or a description of what could not be read, where) per ``publish`` call."""
    found = []
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _called_name(node.func) == "publish"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Call) and _called_name(argument.func):
                found.append((_called_name(argument.func), where))
            else:
                found.append(("<an event not built in the call>", where))
    return found


def _called_name(function: ast.expr) -> str:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return ""


def test_every_published_event_has_a_handler():
    event_types = _event_types()
    subscriptions = events.subscriptions()
    publications = _publications()

    problems = []
    for name, where in publications:
        if name not in event_types:
            problems.append(f"{where}: publishes {name}, not an Event type of an apps/*/events.py")
        elif event_types[name] not in subscriptions and name not in UNHANDLED_ON_PURPOSE:
            problems.append(f"{where}: publishes {name}, which no handler subscribes to")
    assert publications, "found no events.publish(...) call at all: the scan is broken"
    assert problems == []


def test_event_types_and_handlers_live_where_the_house_says():
    event_types = _event_types()
    misplaced = [
        f"{event_type.__module__}.{name} (event types go in apps/<app>/events.py)"
        for name, event_type in event_types.items()
        if not event_type.__module__.endswith(".events")
    ]
    misplaced += [
        f"{function.__module__}.{function.__qualname__} handles {event_type.__name__} "
        "(handlers go in apps/<app>/handlers.py)"
        for event_type, functions in events.subscriptions().items()
        for function in functions
        if not (
            function.__module__.startswith("apps.") and function.__module__.endswith(".handlers")
        )
    ]
    assert misplaced == []
