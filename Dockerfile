# Music Tracker in a container: the same start as `./scripts/run --prod` (gunicorn + worker).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VENV=/opt/venv PORT=8000
WORKDIR /app
COPY pyproject.toml ./
COPY scripts/_setup scripts/_setup
RUN python -m venv /opt/venv && /opt/venv/bin/python - <<'PY' > /tmp/req.txt
import tomllib; print("\n".join(tomllib.load(open("pyproject.toml","rb"))["project"]["dependencies"]))
PY
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/req.txt
COPY . .
RUN touch "/opt/venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
# data/ (database, secret key, backups, logs) lives on a volume so it survives upgrades.
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=60s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["./scripts/run", "--prod"]
