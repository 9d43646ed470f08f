# Production image: external PostgreSQL (DATABASE_URL), no embedded database, no dev features.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/casusoverleg

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml ./
COPY app/ app/
RUN pip install .

COPY alembic/ alembic/
COPY alembic.ini ./
COPY agreements/ agreements/

# app/config.py finds alembic/ and agreements/ next to the app package: import it from here,
# not from site-packages.
ENV PYTHONPATH=/srv/casusoverleg \
    ENVIRONMENT=production \
    DEV_IDP_ENABLED=false \
    LOAD_DEMO_DATA=false \
    DATA_DIR=/srv/casusoverleg/.data

RUN useradd --system --create-home --uid 10001 app \
    && mkdir -p /srv/casusoverleg/.data \
    && chown app:app /srv/casusoverleg/.data
USER app

EXPOSE 8000
CMD ["sh", "-c", "casusoverleg migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000"]
