"""A partner system's client for casusoverleg, in full: get a token (OAuth 2 client credentials at
your own identity provider, or a token you already have), report events with the official
CloudEvents SDK in both HTTP modes and as a batch, then read back what your system may see of
the client's case (scope cases:read-minimal).

    pip install "cloudevents>=2.2,<3" httpx
    python docs/example_client.py --base-url http://127.0.0.1:8000 \\
        --token "$(.venv/bin/casusoverleg token --as zorg-systeem)" --reference ZRG-0005
    python docs/example_client.py --base-url https://casusoverleg.example \\
        --token-url https://idp.zorg.example/oauth2/token --client-id epd --client-secret ... \\
        --reference ZRG-000123

It prints one JSON object with the receipts and the minimal case view; the test suite runs it
against the service (tests/events/test_demo_example.py)."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cloudevents.core.bindings.http import HTTPMessage, to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

NAMESPACE = "nl.casusoverleg.event."
# NL GOV CloudEvents profile: the sending system as urn:nld:oin:<your OIN>:systeem:<name>.
SOURCE = "urn:nld:oin:00000001234567890000:systeem:epd"
SCOPES = "events:write cases:read-minimal"


def client_credentials_token(token_url: str, client_id: str, client_secret: str, scope: str = SCOPES) -> str:
    """OAuth 2 client credentials (RFC 6749 section 4.4) at your organisation's provider."""
    response = httpx.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, client_secret),
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def signal(kind: str, reference: str, data: dict[str, Any], *, minutes_ago: int = 30) -> CloudEvent:
    return CloudEvent(
        attributes={
            "id": str(uuid.uuid4()),  # your own unique id: a retry with the same id is harmless
            "source": SOURCE,
            "type": NAMESPACE + kind,
            "subject": reference,  # your own reference for the client, never a BSN or a name
            "time": datetime.now(UTC) - timedelta(minutes=minutes_ago),
            "datacontenttype": "application/json",
        },
        data=data,
    )


def batch(*events: CloudEvent) -> HTTPMessage:
    """application/cloudevents-batch+json: the structured form of each event, in one array."""
    fmt = JSONFormat()
    return HTTPMessage(
        headers={"content-type": "application/cloudevents-batch+json"},
        body=b"[" + b",".join(fmt.write(e) for e in events) + b"]",
    )


def send(http: httpx.Client, message: HTTPMessage) -> Any:
    response = http.post("/api/v1/events", content=message.body, headers=message.headers)
    if response.status_code not in (200, 201):  # 200: a replay, answered with the original receipt
        raise SystemExit(f"events refused: {response.status_code} {response.text}")
    return response.json()


def run(base_url: str, token: str, reference: str) -> dict[str, Any]:
    fmt = JSONFormat()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        structured = send(http, to_structured(
            signal("relapse", reference, {"substances": ["ghb"], "reported_by": "professional"}), fmt))
        binary = send(http, to_binary(
            signal("missed_appointment", reference, {"appointment_kind": "treatment"}), fmt))
        batched = send(http, batch(
            signal("lapse", reference, {"substances": ["alcohol"]}, minutes_ago=90),
            signal("lapse", reference, {"substances": ["alcohol"]}, minutes_ago=60),
        ))
        case = http.post("/api/v1/cases/minimal-lookup", json={"reference": reference})
        if case.status_code != 200:
            raise SystemExit(f"case not readable: {case.status_code} {case.text}")
    return {"structured": structured, "binary": binary, "batch": batched, "case": case.json()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--reference", required=True, help="your organisation's own reference for the client")
    parser.add_argument("--token", help="a bearer token (else client credentials below)")
    parser.add_argument("--token-url")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    args = parser.parse_args(argv)
    token = args.token
    if not token:
        if not (args.token_url and args.client_id and args.client_secret):
            parser.error("give --token, or --token-url, --client-id and --client-secret")
        token = client_credentials_token(args.token_url, args.client_id, args.client_secret)
    print(json.dumps(run(args.base_url, token, args.reference), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
