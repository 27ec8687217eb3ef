# The service image: the package, its templates and migrations; `newsletter serve` by default.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSLETTER_VAR_DIR=/var/lib/newsletter

WORKDIR /app
COPY pyproject.toml README.md ./
COPY newsletter ./newsletter
COPY subscribers ./subscribers
COPY templates ./templates
RUN pip install ".[postgres,workers]" \
    && useradd --system --home-dir /var/lib/newsletter --create-home newsletter
COPY examples ./examples

USER newsletter
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# Migrations run at every start: `newsletter init` is safe to repeat.
CMD ["sh", "-c", "newsletter init && exec newsletter serve --host 0.0.0.0 --port 8000"]
