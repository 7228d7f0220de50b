"""
The PostgreSQL backend that django-tenants wraps (settings.ORIGINAL_BACKEND):
Django's own, with a schema editor whose DDL Citus also accepts.
"""
