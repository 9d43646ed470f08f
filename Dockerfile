# syntax=docker/dockerfile:1
# Production image: an external PostgreSQL, no embedded database, no development features.
#
#   docker build -t casusoverleg .
#   docker run --rm -e MIGRATION_DATABASE_URL=... -e DATABASE_URL=... (secrets) casusoverleg casusoverleg migrate
#   docker run -p 8000:8000 -e DATABASE_URL=<application role only> (secrets) casusoverleg
#
# Migrations are a one-shot command (they hold a PostgreSQL advisory lock, so replicas started
# together never race); the serving container never migrates and gets only the application
# role's URL, which cannot alter the access log. compose.yaml shows the whole arrangement.

# Pinned base (patch release and Debian release); pin the digest too when you publish images.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# The locked dependency set first: this layer is rebuilt only when requirements.lock changes,
# not on every code change.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock
# Then the application itself (its console script), against exactly that set.
COPY pyproject.toml ./
COPY app/ app/
RUN pip install --no-deps . && pip check

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/casusoverleg \
    ENVIRONMENT=production \
    DEV_IDP_ENABLED=false \
    LOAD_DEMO_DATA=false \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/srv/casusoverleg/.data
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /srv/casusoverleg --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/casusoverleg
# app/config.py finds alembic/ and agreements/ beside the app package: it is imported from here
# (PYTHONPATH), not from site-packages.
COPY alembic.ini ./
COPY alembic/ alembic/
COPY agreements/ agreements/
COPY app/ app/
# .data: working files; checkpoints: where compose.yaml mounts the access log's checkpoint volume
# (a fresh named volume takes this folder's owner).
RUN mkdir -p .data checkpoints && chown 10001:10001 .data checkpoints
USER 10001:10001

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4).status != 200)"]
CMD ["casusoverleg", "serve", "--no-demo"]
