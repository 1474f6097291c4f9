import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
application = get_wsgi_application()
# The URLconf (with the API and the admin's modules, atiende/adminsite.py) is loaded now,
# not on the first request: `atiende serve` imports this module before gunicorn forks, so
# its web processes share what is loaded instead of each loading it.
import_module(settings.ROOT_URLCONF)
