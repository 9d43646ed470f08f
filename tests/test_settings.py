"""Production refuses development-only features and default secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings

SECRETS = {"bsn_encryption_key": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==", "bsn_hash_key": "prod-hash",
           "session_secret": "prod-session", "database_url": "postgresql://app@db/casusoverleg"}


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"dev_idp_enabled": True}, "DEV_IDP_ENABLED"),
        ({"load_demo_data": True}, "LOAD_DEMO_DATA"),
        ({"database_url": None}, "DATABASE_URL"),
        ({"bsn_hash_key": Settings.model_fields["bsn_hash_key"].default}, "BSN_HASH_KEY"),
    ],
)
def test_production_refuses_development_features(override: dict, complaint: str) -> None:
    values = {"environment": "production", "dev_idp_enabled": False, "load_demo_data": False, **SECRETS, **override}
    with pytest.raises(ValidationError, match=complaint):
        Settings(**values)


def test_production_starts_with_own_secrets_and_no_dev_features() -> None:
    settings = Settings(environment="production", dev_idp_enabled=False, load_demo_data=False, **SECRETS)
    assert not settings.is_development


def test_api_docs_are_off_in_production_unless_enabled() -> None:
    from app.main import create_app

    base = {"environment": "production", "dev_idp_enabled": False, "load_demo_data": False, **SECRETS}
    paths = {getattr(r, "path", "") for r in create_app(Settings(**base)).routes}
    assert "/api/v1/openapi.json" not in paths and "/api/v1/docs" not in paths
    enabled = {getattr(r, "path", "") for r in create_app(Settings(**base, docs_enabled=True)).routes}
    assert "/api/v1/openapi.json" in enabled
    development = {getattr(r, "path", "") for r in create_app(Settings()).routes}
    assert "/api/v1/docs" in development
