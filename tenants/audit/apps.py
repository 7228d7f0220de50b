from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The shop's audit log (lives in each shop's schema)."""

    name = "tenants.audit"
    label = "audit"
