"""`atiende serve`'s web processes."""

import gc

from atiende.core.management.commands import serve


def test_a_web_process_leaves_its_loaded_code_out_of_full_collections():
    gc.unfreeze()
    try:
        serve._worker_ready(run_jobs=False)
        assert gc.get_freeze_count() > 10_000  # Django and atiende, loaded by the test run
    finally:
        gc.unfreeze()
