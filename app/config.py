"""Typed settings. Every knob has a safe default and an environment variable."""

from __future__ import annotations

import base64
import binascii
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Development-only secrets: usable on a laptop, refused in production.
DEV_BSN_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1ic24ta2V5LTMyYnl0ZXM="  # base64 of 32 bytes
DEV_BSN_HASH_KEY = "development-only-bsn-hash-key"
DEV_SESSION_SECRET = "development-only-session-secret"  # noqa: S105  (refused in production)
DEV_AUDIT_CHAIN_KEY = "development-only-access-log-chain-key"  # noqa: S105  (refused in production)


# A production secret: at least this long, and not something a person typed as a stand-in.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 8
_PLACEHOLDER = re.compile(
    r"change.?(me|it|this)|replace.?me|placeholder|example|secret|passw(or)?d|default|dummy|sample"
    r"|todo|fixme|xxxx|development|insecure|not.?set|your|0123456789|abcdef|qwerty",
    re.IGNORECASE,
)


def secret_weakness(value: str, *, min_length: int = MIN_SECRET_LENGTH) -> str | None:
    """Why `value` is not fit as a production secret, or None. Never echoes the value."""
    if len(value) < min_length:
        return f"must be at least {min_length} characters long"
    if _PLACEHOLDER.search(value):
        return "looks like a placeholder (it contains a common stand-in word)"
    if len(set(value)) < MIN_SECRET_DISTINCT_CHARACTERS:
        return "looks like a placeholder (too few distinct characters)"
    return None


def _aes_key_weakness(value: str) -> str | None:
    """BSN_ENCRYPTION_KEY is base64 of an AES key: judge the decoded bytes."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "must be base64"
    if len(key) not in (16, 24, 32):
        return "must be base64 of a 16, 24 or 32 byte key"
    if len(set(key)) < MIN_SECRET_DISTINCT_CHARACTERS or _PLACEHOLDER.search(key.decode("latin-1")):
        return "looks like a placeholder, not random bytes"
    return None


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    # Runtime connection (the application's role). Unset: an embedded PostgreSQL is started.
    database_url: str | None = None
    # Connection used for migrations (the owner role); defaults to database_url.
    migration_database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Every wait on the database is bounded; each answers 503 with Retry-After, logged with its
    # cause. lock_timeout: a row or table lock held by another transaction; statement_timeout: one
    # statement; pool: a free connection of this process; connect: reaching the server at all.
    db_lock_timeout_seconds: float = Field(default=3.0, gt=0, le=600)
    db_statement_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # /api/v1/health and /health/ready answer within this, from a connection of their own.
    health_timeout_seconds: float = Field(default=0.8, gt=0, le=10)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Unset: http://HOST:PORT (127.0.0.1 for a wildcard host), so that `serve --port` and
    # `token` agree on the demo issuers without a second setting.
    public_base_url: str = ""

    bsn_encryption_key: str = DEV_BSN_ENCRYPTION_KEY
    bsn_hash_key: str = DEV_BSN_HASH_KEY
    session_secret: str = DEV_SESSION_SECRET

    # Development identity providers (one issuer per demo organisation). Refused in production.
    dev_idp_enabled: bool = True
    load_demo_data: bool = True
    # The OpenAPI document and /api/v1/docs: on in development, off in production unless enabled.
    docs_enabled: bool | None = None

    # Token validation
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=60)
    jwks_cache_ttl_seconds: int = Field(default=600, ge=1)
    jwks_refetch_min_interval_seconds: int = Field(default=60, ge=0)
    jwks_fetch_timeout_seconds: float = Field(default=5.0, gt=0, le=5.0)
    # The longest lifetime (exp - iat) a token may claim: a token of a person, of a partner system.
    token_max_lifetime_person_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    token_max_lifetime_system_seconds: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)
    max_authorization_header_bytes: int = 8192
    # Validated tokens and their principals are kept in memory this long at most (and never past
    # the token's exp), so that a warm request runs no SQL to authenticate. Any change of an
    # organisation, membership or partner system empties the cache of every replica at once
    # (PostgreSQL LISTEN/NOTIFY); this lifetime bounds a revocation should a notification be
    # lost. 0 turns the cache off. See docs/performance.md.
    auth_cache_seconds: int = Field(default=60, ge=0, le=600)

    # Request limits
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    scheduler_enabled: bool = True

    # Bulk look-ups by BSN (OWASP API6): more than this many searches by one person within the
    # window are refused with 429 and flagged in the access log.
    bsn_lookup_limit: int = Field(default=30, ge=1)
    bsn_lookup_window_seconds: int = Field(default=600, ge=1)

    # Web client (browser sign-in through each organisation's provider: OIDC code flow + PKCE)
    web_oidc_client_id: str = "casusoverleg"
    web_oidc_client_secret: str | None = None  # unset: a public client (PKCE only)
    web_session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    web_sign_in_minutes: int = Field(default=10, ge=1, le=60)
    # Agreements: the folder of versioned templates, and the largest signature scan accepted
    # (kept below max_body_bytes so the answer is ours).
    agreements_dir: Path = PROJECT_ROOT / "agreements"
    agreement_scan_max_bytes: int = Field(default=921_600, ge=1024)
    # Meetings, agendas and scheduled work (issue 6)
    meeting_horizon_weeks: int = Field(default=12, ge=1, le=104)  # how far ahead the cadence is laid out
    agenda_draft_days_before: int = Field(default=3, ge=0, le=60)  # the job drafts agendas this early
    action_due_soon_days: int = Field(default=3, ge=0, le=60)  # reminders and digests
    # Members are warned this many days before their mandate ends, case directors before an
    # agreement of their case ends (the job expiry.warnings).
    expiry_warning_days: int = Field(default=30, ge=1, le=365)
    scheduler_timezone: str = "Europe/Amsterdam"  # daily jobs run at local wall-clock times
    scheduler_daily_at: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    scheduler_instance_id: str | None = None  # recorded in job_run; defaults to host:pid
    # Scheduled work that recovers (app/jobs/runner.py): the catch-up runs at start and then this
    # often, on every replica; a running job writes a heartbeat this often; a run without one for
    # job_stale_after_seconds (its process died) is abandoned and its slot claimed again, at most
    # job_max_attempts claims per slot.
    scheduler_catch_up_seconds: int = Field(default=60, ge=1, le=3600)
    job_heartbeat_seconds: float = Field(default=30.0, gt=0, le=3600)
    job_stale_after_seconds: float = Field(default=300.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1, le=20)
    # Partner events (CloudEvents in) and webhooks (Standard Webhooks out)
    events_max_batch: int = Field(default=100, ge=1, le=1000)
    events_max_future_seconds: int = Field(default=300, ge=0, le=3600)
    # An event that arrives later than this after it happened goes on the timeline only: it no
    # longer flags the case for the agenda nor notifies anyone (it is old news by then).
    events_flag_max_age_days: int = Field(default=28, ge=0)
    # Repeats of a flagging kind for a case fold into its open flag (count + 1); a repeat more
    # than this many hours (event time) after the case director was last told tells them again.
    events_fold_window_hours: int = Field(default=72, ge=1, le=24 * 90)
    # How far ahead the case director may snooze a kind of signal.
    snooze_max_days: int = Field(default=90, ge=1, le=365)
    aftercare_watch_days: int = Field(default=180, ge=1, le=3650)
    # Webhook targets on loopback/private/link-local addresses are refused (SSRF) unless this
    # is set; only tests and local development with a receiver on the same machine set it.
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=30)
    webhook_max_attempts: int = Field(default=14, ge=1, le=50)  # with the backoff: ~2.5 days
    webhook_backoff_base_seconds: float = Field(default=60.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=86_400.0, gt=0)
    # How long a delivering process holds a claimed message before another may take it over. One
    # delivery is bounded by webhook_timeout_seconds altogether (address check, connect, answer),
    # and a batch is sent at once, so the lease only needs that plus time to record the outcome.
    # Unset: webhook_timeout_seconds + 15. A lease shorter than the timeout is refused.
    webhook_lease_seconds: float | None = Field(default=None, gt=0)
    # Retention (issue 7). Closed cases are anonymised after their conference's retention_days
    # (Conference.retention_days, default 730 days = 2 years after closure). Access-log rows are
    # kept at least 5 years (NEN 7513; 1826 days), then removed by the purge, which runs as the
    # database owner and anchors the hash chain so that verify still holds.
    access_log_retention_days: int = Field(default=1826, ge=1826, le=36500)
    # The access log's keyed hash chain and its checkpoints (docs/access-log.md, "Threat model"):
    # the key is held by the application only, never by the database; the checkpoints of the
    # chains' heads are written, signed, to a folder the database owner cannot write (in
    # development .data/audit-checkpoints; in production required, e.g. a WORM-mounted bucket).
    audit_chain_key: str = Field(default=DEV_AUDIT_CHAIN_KEY, min_length=16)
    audit_checkpoint_dir: Path | None = None
    audit_checkpoint_interval_seconds: int = Field(default=300, ge=10, le=86_400)
    purge_batch_size: int = Field(default=200, ge=1, le=10_000)

    # Observability: Prometheus metrics at /metrics. In production they need METRICS_TOKEN (as a
    # bearer token) or are served only on METRICS_PORT (a separate listener, e.g. for the
    # cluster's scraper), never openly on the public port.
    metrics_enabled: bool = True
    metrics_token: str | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Logs: plain text in development, one JSON object per line in production (unset: by environment).
    log_format: str | None = Field(default=None, pattern=r"^(text|json)$")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @model_validator(mode="after")
    def _derive_public_base_url(self) -> Settings:
        if not self.public_base_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
            self.public_base_url = f"http://{host}:{self.port}"
        return self

    @property
    def metrics_served_on_public_port(self) -> bool:
        """Development: open; production: only behind METRICS_TOKEN; never with METRICS_PORT."""
        if not self.metrics_enabled or self.metrics_port:
            return False
        return self.is_development or bool(self.metrics_token)

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" if self.log_format else not self.is_development

    @model_validator(mode="after")
    def _refuse_development_features_in_production(self) -> Settings:
        if self.environment is Environment.production:
            problems = []
            if self.dev_idp_enabled:
                problems.append("DEV_IDP_ENABLED must be false")
            if self.load_demo_data:
                problems.append("LOAD_DEMO_DATA must be false")
            if not self.database_url:
                problems.append("DATABASE_URL is required (no embedded database in production)")
            if self.bsn_encryption_key == DEV_BSN_ENCRYPTION_KEY:
                problems.append("BSN_ENCRYPTION_KEY must be set to a secret of your own")
            elif weakness := _aes_key_weakness(self.bsn_encryption_key):
                problems.append(f"BSN_ENCRYPTION_KEY {weakness}")
            secrets = {"BSN_HASH_KEY": (self.bsn_hash_key, DEV_BSN_HASH_KEY),
                       "SESSION_SECRET": (self.session_secret, DEV_SESSION_SECRET),
                       "AUDIT_CHAIN_KEY": (self.audit_chain_key, DEV_AUDIT_CHAIN_KEY)}
            if self.web_oidc_client_secret is not None:
                secrets["WEB_OIDC_CLIENT_SECRET"] = (self.web_oidc_client_secret, "")
            for name, (value, development) in secrets.items():
                if value == development:
                    problems.append(f"{name} must be set to a secret of your own")
                elif weakness := secret_weakness(value):
                    problems.append(f"{name} {weakness}")
            if self.webhook_allow_private_targets:
                problems.append("WEBHOOK_ALLOW_PRIVATE_TARGETS must be false (it opens the service to SSRF)")
            if self.token_max_lifetime_person_seconds > self.token_max_lifetime_system_seconds:
                problems.append("TOKEN_MAX_LIFETIME_PERSON_SECONDS may not exceed the system maximum")
            if self.audit_checkpoint_dir is None:
                problems.append("AUDIT_CHECKPOINT_DIR is required (a folder the database owner cannot write)")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Settings:
        if self.webhook_lease_seconds is not None and self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_SECONDS")
        return self

    @property
    def webhook_lease(self) -> float:
        """Seconds a claimed outbox message stays with its worker (see webhook_lease_seconds)."""
        if self.webhook_lease_seconds is not None:
            return self.webhook_lease_seconds
        return self.webhook_timeout_seconds + 15.0

    @property
    def docs_served(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.is_development

    @property
    def checkpoint_dir(self) -> Path:
        return self.audit_checkpoint_dir or self.data_dir / "audit-checkpoints"

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development


@lru_cache
def get_settings() -> Settings:
    return Settings()
