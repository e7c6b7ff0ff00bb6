# syntax=docker/dockerfile:1
# Build stage: install the package and its dependencies into a virtualenv.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

# Final stage: the virtualenv, the migrations and a non-root user; no compilers.
FROM python:3.12-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/juriscope juriscope
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/juriscope
COPY alembic.ini ./
COPY migrations ./migrations
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/juriscope-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    JURISCOPE_ENV=production \
    JURISCOPE_MIGRATIONS_DIR=/srv/juriscope/migrations \
    JURISCOPE_SEED_ON_START=false \
    JURISCOPE_TRUSTED_PROXIES= \
    JURISCOPE_LOG_FORMAT=json
USER juriscope
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
ENTRYPOINT ["juriscope-entrypoint"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-migrate"]
