"""Production refuses development-only features and default secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from app.config import Settings
from app.db import Database, DatabaseUrls
from app.main import create_app
from app.models import Organisation
from app.models.enums import OrganisationKind
from tests.conftest import make_settings

SECRETS = {
    "bsn_encryption_key": "q3Jb8Zf1Lw0n7UeT4cXhVm2pYsKd9RaG6iEoNzBtHjM=",  # 32 random bytes
    "bsn_hash_key": "Jx4r9TqLw2vZ8mNc5bKh7YpFs3dGa6Ue",
    "session_secret": "Pz7wXq2LmN9cVb4Rt6Ys8Kd3Hf5Jg1Ae",
    "database_url": "postgresql://app@db/casusoverleg",
    "audit_chain_key": "Wm4Tq8Lc2Rv7Nb5Xk3Pj9Hs6Df1Gy0Ae",
    "audit_checkpoint_dir": "/srv/casusoverleg/checkpoints",
}


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"dev_idp_enabled": True}, "DEV_IDP_ENABLED"),
        ({"load_demo_data": True}, "LOAD_DEMO_DATA"),
        ({"database_url": None}, "DATABASE_URL"),
        ({"bsn_hash_key": Settings.model_fields["bsn_hash_key"].default}, "BSN_HASH_KEY"),
        # secrets too short, or placeholders
        ({"bsn_hash_key": "a"}, "BSN_HASH_KEY must be at least 32 characters"),
        ({"session_secret": "b"}, "SESSION_SECRET must be at least 32 characters"),
        ({"session_secret": "changeme-changeme-changeme-changeme"}, "SESSION_SECRET looks like a placeholder"),
        ({"bsn_hash_key": "x" * 64}, "BSN_HASH_KEY looks like a placeholder"),
        ({"bsn_hash_key": "abababababababababababababababab12"}, "BSN_HASH_KEY looks like a placeholder"),
        ({"session_secret": "<your-session-secret-goes-here-please>"}, "SESSION_SECRET looks like a placeholder"),
        ({"web_oidc_client_secret": "secret"}, "WEB_OIDC_CLIENT_SECRET"),
        ({"bsn_encryption_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "BSN_ENCRYPTION_KEY looks like a placeholder"),
        ({"bsn_encryption_key": "c2hvcnQ="}, "BSN_ENCRYPTION_KEY must be base64 of a 16, 24 or 32 byte key"),
        ({"bsn_encryption_key": "not base64 at all!"}, "BSN_ENCRYPTION_KEY must be base64"),
        ({"webhook_allow_private_targets": True}, "WEBHOOK_ALLOW_PRIVATE_TARGETS must be false"),
        ({"audit_chain_key": Settings.model_fields["audit_chain_key"].default}, "AUDIT_CHAIN_KEY"),
        ({"audit_chain_key": "short-but-16-chars"}, "AUDIT_CHAIN_KEY"),
        ({"audit_checkpoint_dir": None}, "AUDIT_CHECKPOINT_DIR"),
    ],
)
def test_production_refuses_development_features(override: dict, complaint: str) -> None:
    values = {"environment": "production", "dev_idp_enabled": False, "load_demo_data": False, **SECRETS, **override}
    with pytest.raises(ValidationError, match=complaint):
        Settings(**values)


def test_production_starts_with_own_secrets_and_no_dev_features() -> None:
    settings = Settings(environment="production", dev_idp_enabled=False, load_demo_data=False, **SECRETS)
    assert not settings.is_development


def test_a_refused_secret_is_never_echoed() -> None:
    weak = "my-own-session-key"
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production", dev_idp_enabled=False, load_demo_data=False,
                 **{**SECRETS, "session_secret": weak})
    assert weak not in str(refused.value)


def _production(urls: DatabaseUrls, data_dir: Path) -> Settings:
    secrets = {k: v for k, v in SECRETS.items() if k != "database_url"}
    return make_settings(urls, data_dir, environment="production", **secrets)


@pytest.mark.parametrize(
    ("issuer", "jwks_uri"),
    [
        ("http://idp.example.org/realms/x", None),  # plain http
        ("https://casusoverleg.example.org/dev-idp/gemeente", None),  # the service's own dev issuers
        ("https://idp.example.org/realms/x", "http://idp.example.org/keys"),  # keys over plain http
    ],
)
async def test_production_refuses_to_start_with_development_issuers(
    database_urls: DatabaseUrls, owner_db: Database, tmp_path: Path, issuer: str, jwks_uri: str | None
) -> None:
    async with owner_db.sessions() as session:
        session.add(Organisation(name="Ontwikkel", slug="ontwikkel", kind=OrganisationKind.municipality,
                                 issuer=issuer, jwks_uri=jwks_uri, audience="casusoverleg"))
        await session.commit()
    application = create_app(_production(database_urls, tmp_path))
    with pytest.raises(RuntimeError, match="development identity provider.*ontwikkel"):
        async with application.router.lifespan_context(application):
            pass


async def test_production_starts_when_every_issuer_is_https(
    database_urls: DatabaseUrls, owner_db: Database, tmp_path: Path
) -> None:
    async with owner_db.sessions() as session:
        session.add(Organisation(name="Echt", slug="echt", kind=OrganisationKind.municipality,
                                 issuer="https://idp.example.org/realms/echt", audience="casusoverleg"))
        await session.commit()
        assert (await session.execute(sa.select(sa.func.count()).select_from(Organisation))).scalar_one() == 1
    application = create_app(_production(database_urls, tmp_path))
    async with application.router.lifespan_context(application):
        pass


def test_api_docs_are_off_in_production_unless_enabled() -> None:
    base = {"environment": "production", "dev_idp_enabled": False, "load_demo_data": False, **SECRETS}
    paths = {getattr(r, "path", "") for r in create_app(Settings(**base)).routes}
    assert "/api/v1/openapi.json" not in paths and "/api/v1/docs" not in paths
    enabled = {getattr(r, "path", "") for r in create_app(Settings(**base, docs_enabled=True)).routes}
    assert "/api/v1/openapi.json" in enabled
    development = {getattr(r, "path", "") for r in create_app(Settings()).routes}
    assert "/api/v1/docs" in development


async def test_production_refuses_tokens_of_development_issuers_registered_later(world) -> None:  # noqa: ANN001
    """Registered after start-up (or by a direct database edit): still no token of theirs."""
    from app.auth.tokens import InvalidToken, IssuerConfig, KeyCache, TokenValidator

    validator = TokenValidator(key_cache=KeyCache(), refuse_development_issuers=True)
    issuer = world.orgs["gemeente"].issuer  # the test providers serve plain http
    token = world.token("chair")
    with pytest.raises(InvalidToken, match="development issuer"):
        await validator.validate(token, {issuer: IssuerConfig(issuer=issuer, audience="casusoverleg")})
    accepted = await TokenValidator(key_cache=KeyCache()).validate(
        token, {issuer: IssuerConfig(issuer=issuer, audience="casusoverleg")}
    )
    assert accepted["iss"] == issuer
