"""Network addresses as written by agents, normalised so a rule sees one spelling.

`169.254.169.254`, `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518` and
`::ffff:169.254.169.254` are the same host; `normalize_host` returns the dotted quad for all of
them, the way inet_aton and the kernel read them. No regular expressions: plain string methods,
linear in the input.
"""
from __future__ import annotations

import ipaddress
from typing import NamedTuple

__all__ = ["normalize_host", "Target", "parse_url", "split_host_port", "DEFAULT_PORTS"]

DEFAULT_PORTS = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "ssh": 22, "sftp": 22,
    "git": 9418, "redis": 6379, "postgres": 5432, "postgresql": 5432, "mysql": 3306,
    "mongodb": 27017, "amqp": 5672,
}


class Target(NamedTuple):
    """A parsed destination: normalised host, the host as written, port, scheme, user."""

    host: str
    raw_host: str
    port: int | None
    scheme: str | None
    user: str | None = None


def _ipv4_part(part: str) -> int | None:
    """One inet_aton component: decimal, 0x hex or 0-prefixed octal."""
    if not part:
        return None
    low = part.lower()
    try:
        if low.startswith("0x"):
            return int(low[2:] or "0", 16)
        if len(low) > 1 and low.startswith("0"):
            return int(low[1:], 8)
        return int(low, 10) if low.isdigit() else None
    except ValueError:
        return None


def _ipv4(text: str) -> str | None:
    """inet_aton semantics: 1 to 4 parts, the last filling the remaining bytes."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or len(text) > 64:
        return None
    values = [_ipv4_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    nums: list[int] = values  # type: ignore[assignment]
    for v in nums[:-1]:
        if v > 255:
            return None
    rest_bytes = 4 - (len(nums) - 1)
    if nums[-1] >= 1 << (8 * rest_bytes):
        return None
    value = 0
    for v in nums[:-1]:
        value = value << 8 | v
    value = value << (8 * rest_bytes) | nums[-1]
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def normalize_host(raw: str) -> str:
    """Lower-case a host name; rewrite any IPv4 spelling (also IPv6-mapped) as a dotted quad."""
    host = raw.strip().strip("[]").lower().rstrip(".")
    if not host:
        return host
    if ":" in host:
        try:
            v6 = ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return host
        mapped = v6.ipv4_mapped
        return str(mapped) if mapped is not None else v6.compressed
    if host[0].isdigit():
        return _ipv4(host) or host
    return host


def split_host_port(text: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port` or `host`; a port that is not a number is left on the host."""
    if text.startswith("["):
        end = text.find("]")
        if end > 0:
            host, rest = text[1:end], text[end + 1:]
            port = _port(rest[1:]) if rest.startswith(":") else None
            return host, port
    if text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text)
        if port is not None or not port_text:
            return host, port
    return text, None


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 5 and int(text) <= 65535 else None


def parse_url(text: str) -> Target | None:
    """A URL with a scheme (`https://u@h:8443/p`, `stratum+tcp://pool:3333`), else None."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme or len(scheme) > 32:
        return None
    if not all(c.isalnum() or c in "+-." for c in scheme):
        return None
    scheme = scheme.lower()
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    authority = rest[:end]
    user = None
    if "@" in authority:
        user, _, authority = authority.rpartition("@")
    host, port = split_host_port(authority)
    if not host:
        return None
    if port is None:
        port = DEFAULT_PORTS.get(scheme.split("+")[-1]) if scheme.split("+")[0] != "stratum" else None
    return Target(normalize_host(host), host, port, scheme, user)
