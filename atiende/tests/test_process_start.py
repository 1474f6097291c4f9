"""What a process imports at django.setup(): the email poller, the MTA pipe and the worker
start a process each, and pay for every module imported then (issue 17). These tests run
a fresh interpreter, so a module imported again at start (an adapter's transport, an
admin module, the API framework) fails them; docs/benchmarks.md has the timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import atiende

ROOT = Path(atiende.__file__).resolve().parent.parent


def _modules_after(code: str, tmp_path: Path) -> dict:
    """Run `code` after django.setup() in a new interpreter; it leaves its answer in `out`."""
    script = (
        "import json, os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'atiende.settings'\n"
        "import django\n"
        "django.setup()\n"
        "out = {'modules': sorted(sys.modules)}\n"
        f"{code}\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "ATIENDE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _admin_modules() -> set[str]:
    """Every app's admin module, from the files."""
    return {
        "atiende." + ".".join(path.relative_to(ROOT / "atiende").with_suffix("").parts)
        for path in (ROOT / "atiende").rglob("admin.py")
    }


def test_django_setup_imports_no_transport_admin_module_api_framework_or_service(tmp_path):
    modules = set(_modules_after("", tmp_path)["modules"])
    assert "httpx" not in modules  # the WhatsApp sender's, imported by its first delivery
    assert "atiende.channels.whatsapp.outbound" not in modules
    assert modules.isdisjoint(_admin_modules())  # with the URLconf (atiende/adminsite.py)
    assert "atiende.urls" not in modules
    assert "ninja" not in modules  # the API's framework, with the URLconf (settings.NINJA_DIR)
    assert "pydantic" not in modules
    assert "phonenumbers" not in modules  # with the first number read (customers/phones.py)
    # The event receivers import the services they call when their event arrives.
    assert "atiende.escalations.services" not in modules
    assert "atiende.notifications.services" not in modules
    assert "atiende.cases.services" not in modules


def test_the_urlconf_registers_every_apps_admin_module(tmp_path):
    after = _modules_after(
        "from django.contrib import admin\n"
        "before = {m._meta.label for m in admin.site._registry}\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "out = {'before': sorted(before), 'modules': sorted(sys.modules),\n"
        "       'registered': sorted(m._meta.label for m in admin.site._registry),\n"
        "       'header': admin.site.site_header}",
        tmp_path,
    )
    assert after["before"] == []
    assert _admin_modules() <= set(after["modules"])
    assert {"cases.Case", "accounts.User", "auth.Group", "worker.Job"} <= set(after["registered"])
    assert after["header"] == "atiende — administración"


def test_the_admins_system_checks_see_its_registrations(tmp_path):
    after = _modules_after(
        "from django.core import checks\n"
        "from django.contrib import admin\n"
        "checks.run_checks(tags=[checks.Tags.admin])\n"
        "out = {'registered': sorted(m._meta.label for m in admin.site._registry)}",
        tmp_path,
    )
    assert "cases.Case" in after["registered"]


def test_a_sender_is_imported_when_a_delivery_asks_for_it(tmp_path):
    after = _modules_after(
        "from atiende.worker import senders\n"
        "delivers = senders.delivers('whatsapp')\n"
        "before = 'httpx' in sys.modules\n"
        "sender = senders.for_kind('whatsapp')\n"
        "out = {'delivers': delivers, 'before': before, 'after': 'httpx' in sys.modules,\n"
        "       'sender': type(sender).__name__}",
        tmp_path,
    )
    assert after == {"delivers": True, "before": False, "after": True, "sender": "WhatsAppSender"}


def test_a_workers_job_modules_import_no_http_client(tmp_path):
    after = _modules_after(
        "from atiende.worker import registry\n"
        "registry.load()\n"
        "out = {'modules': sorted(sys.modules), 'kinds': sorted(registry.HANDLERS)}",
        tmp_path,
    )
    assert "whatsapp.media" in after["kinds"] and "deliver_note" in after["kinds"]
    assert "httpx" not in after["modules"]  # with the first job that calls the Graph API
