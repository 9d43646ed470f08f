"""Print fresh secrets for compose.yaml: `python3 deploy/compose_env.py > deploy/compose.env`.
Keep the file out of version control (.gitignore); it holds the database passwords and keys."""

import base64
import secrets

values = {
    "OWNER_DB_PASSWORD": secrets.token_urlsafe(32),
    "APP_DB_PASSWORD": secrets.token_urlsafe(32),
    "BSN_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    "BSN_HASH_KEY": secrets.token_urlsafe(32),
    "SESSION_SECRET": secrets.token_urlsafe(32),
    "METRICS_TOKEN": secrets.token_urlsafe(32),
    "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
}
for name, value in values.items():
    print(f"{name}={value}")
