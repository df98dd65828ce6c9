"""What the Cloud Map rules share: moto's namespaces and services, by ID or ARN.

moto is imported lazily, so importing the rules (e.g. for the fidelity table) leaves it
untouched.
"""
from __future__ import annotations

from typing import Any

from mylearning.emulator.fidelity.core import moto_backend

SERVICE = "servicediscovery"
API = "https://docs.aws.amazon.com/cloud-map/latest/api/"
GUIDE = "https://docs.aws.amazon.com/cloud-map/latest/dg/"


def backend(region: str) -> Any:
    return moto_backend("servicediscovery", region)


def _find(items: dict, key: Any) -> Any:
    if not isinstance(key, str) or not key:
        return None
    found = items.get(key)
    if found is None:
        found = next((item for item in list(items.values()) if getattr(item, "arn", None) == key), None)
    return found


def namespace(region: str, id_or_arn: Any) -> Any:
    """moto's namespace (``.type`` DNS_PRIVATE, DNS_PUBLIC or HTTP), or None."""
    try:
        return _find(backend(region).namespaces, id_or_arn)
    except Exception:
        return None


def service(region: str, id_or_arn: Any) -> Any:
    """moto's service (``.dns_config``, ``.health_check_config``, ``.instances``...), or None."""
    try:
        return _find(backend(region).services, id_or_arn)
    except Exception:
        return None


def record_types(dns_config: Any) -> list[str]:
    """The DnsRecords types of a DnsConfig, in order (may repeat)."""
    if not isinstance(dns_config, dict):
        return []
    records = dns_config.get("DnsRecords")
    if not isinstance(records, list):
        return []
    return [r.get("Type") for r in records if isinstance(r, dict) and isinstance(r.get("Type"), str)]
