"""`casusoverleg agreement-templates`: validate and list the agreement templates, as at start-up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.services.agreements.templates import TemplateError, load_templates


def cmd_agreement_templates(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else get_settings().agreements_dir
    try:
        registry = load_templates(directory)
    except TemplateError as exc:
        print(f"casusoverleg: {exc}", file=sys.stderr)
        return 1
    for template in registry.all():
        h = template.header
        print(f"{h.id} v{h.version}: {h.title} (parties: {', '.join(h.parties)}; "
              f"{h.default_duration_days} days; sha256 {template.source_sha256[:12]})")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("agreement-templates", help="validate and list the agreement templates")
    parser.add_argument("--dir", help="the template folder (default: AGREEMENTS_DIR or ./agreements)")
    parser.set_defaults(handler=cmd_agreement_templates)
