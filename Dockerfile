# The API image: a virtualenv on a slim Python, no compilers, a non-root user. PYTHON_IMAGE
# names the base (docker/test.sh passes one made locally from Debian).
ARG PYTHON_IMAGE=python:3.12-slim

# Build stage: the dependencies first, pinned with hashes from requirements.lock, in a layer
# of their own that is rebuilt only when the lock changes (installed by uv, from a virtualenv
# of its own that stays in this stage), then the package itself without them.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/uv && /opt/uv/bin/pip install 'uv>=0.5' \
    && /opt/uv/bin/uv pip install --python /opt/venv/bin/python --compile-bytecode \
       --require-hashes -r requirements.lock \
    && /opt/uv/bin/uv pip install --python /opt/venv/bin/python "setuptools>=69" wheel
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-deps --no-build-isolation .

# Final stage: the virtualenv, the migrations and a non-root user; nothing is written to
# the image at run time, so `docker run --read-only --tmpfs /tmp` works.
FROM ${PYTHON_IMAGE}
COPY docker/entrypoint.sh /usr/local/bin/juriscope-entrypoint
RUN useradd --system --uid 10001 --create-home --home-dir /home/juriscope juriscope \
    && chmod 0755 /usr/local/bin/juriscope-entrypoint
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/juriscope
COPY alembic.ini ./
COPY migrations ./migrations
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
