"""
ASGI entry point for uvicorn: the process that serves the live-update streams
(config/live.py). The edge routes only those paths here; everything else goes
to gunicorn (config/wsgi.py), whose sync workers must not hold a stream open.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
