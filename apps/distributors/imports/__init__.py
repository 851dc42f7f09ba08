"""Bulk import of distributors with their uplines from CSV (admin upload and management command):
``checks`` reads and checks the whole file, ``writing`` writes it, ``jobs`` runs admin uploads in the
background. The file's format and the rules are in ``checks``."""

from .checks import ImportPlan, ImportRefused, import_check
from .jobs import import_job_create, import_job_progress, import_job_run
from .writing import distributors_import, import_write

__all__ = [
    "ImportPlan",
    "ImportRefused",
    "distributors_import",
    "import_check",
    "import_job_create",
    "import_job_progress",
    "import_job_run",
    "import_write",
]
