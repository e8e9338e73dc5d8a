"""The Roundtable studio: a Django project around the embedded runtime.

Importing the package loads the Celery app so that `shared_task` binds to it.
"""

from studio.celery import app as celery_app

__all__ = ["celery_app"]
