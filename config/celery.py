"""Celery application: Redis broker, every task carries its shop's schema."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# CeleryApp (tenant-schemas-celery) stamps each message with a `_schema_name`
# header taken from the connection's current schema and switches the worker's
# connection to that schema before the task runs.
app = CeleryApp("storefleet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
