"""gunicorn settings of `./scripts/run --prod` (bench/load_api.py measures with this same file).

Threaded workers that keep connections alive: an API script or a browser (htmx polls a running
job every 2 s) reuses its connection instead of opening one per request; a slow client, a long
export or a request waiting on a SQLite write lock holds one thread, not a whole worker; the
history list serves the same load as sync workers at a lower median latency (see the README's
benchmark figures). Workers = cores + 1 on the 2-core machines we measure on.

Environment: WEB_WORKERS (default 3), WEB_THREADS (default 2)."""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 5  # seconds an idle connection stays open
timeout = 60
accesslog = "-"
