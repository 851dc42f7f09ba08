import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

# Every task runs in the scope it was enqueued in (row-level security, apps/tenancy/tasks.py).
app = Celery("fenxiao", task_cls="apps.tenancy.tasks:ScopedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
