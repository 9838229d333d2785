"""gunicorn settings of `./scripts/run --prod` (bench/load_api.py measures with the same file).
Environment: WEB_WORKERS (default 3)."""

import os

workers = int(os.environ.get("WEB_WORKERS", "3"))
timeout = 60
accesslog = "-"
