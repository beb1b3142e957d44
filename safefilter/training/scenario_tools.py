"""Which tool family a command or code text belongs to, and the families held out of training.

Why: the held-out split must contain tools the classifier never saw, so training must be able to
recognise them in any generated text (the wrapped action-level generators draw chisel, masscan or
lolMiner among many others). Patterns are data; the first that matches names the family.
"""
from __future__ import annotations

import re

# One tunneling tool, one miner, one scanner, one cloud SDK: only in split="heldout".
HELDOUT_TOOL_FAMILIES: frozenset[str] = frozenset({"chisel", "lolminer", "masscan", "azure_sdk"})

_FAMILY_PATTERNS: list[tuple[str, str]] = [
    ("chisel", r"chisel"),
    ("lolminer", r"lolminer"),
    ("masscan", r"masscan"),
    ("azure_sdk", r"azure\.mgmt|azure-mgmt|ComputeManagementClient|azure\.identity"),
    ("xmrig", r"xmrig|xmr-stak|moneroocean"),
    ("t-rex", r"t-rex"),
    ("cpuminer", r"cpuminer|minerd"),
    ("other_miner", r"ethminer|nbminer|gminer|nanominer|teamredminer|srbminer|bzminer|phoenixminer|ccminer|rigel|stratum"),
    ("rustscan", r"rustscan|naabu|zmap"),
    ("nmap", r"\bnmap\b"),
    ("ngrok", r"ngrok"),
    ("cloudflared", r"cloudflared"),
    ("frp", r"\bfrp[cs]\b"),
    ("autossh", r"autossh"),
    ("other_tunnel", r"sshuttle|\bgost\b|\bbore\b|iodine|dnscat|ligolo|rathole|wstunnel|localtunnel|\blt --port|ptunnel|revsocks|plink"),
    ("boto3", r"\bboto3\b"),
    ("gcp_sdk", r"google\.cloud"),
    ("k8s_client", r"from kubernetes|import kubernetes"),
    ("kubectl", r"\bkubectl\b"),
    ("aws_cli", r"\baws (ec2|iam|s3|autoscaling|secretsmanager|ssm|configure|lambda|sts)\b"),
    ("gcloud", r"\bgcloud\b|\bgsutil\b"),
    ("az_cli", r"\baz (vm|vmss|account|aks|group|storage|role)\b"),
    ("node_net", r"require\(.net.\)|require\(\\?\"net"),
    ("py_socket", r"import socket|socket\.socket|create_connection"),
    ("socat", r"\bsocat\b"),
    ("netcat", r"\bn?cat\b.* -e |\bncat\b|\bnc(\.traditional)? |mkfifo|telnet"),
    ("bash_revshell", r"/dev/tcp/|/dev/udp/"),
    ("metadata", r"169\.254\.169\.254|metadata\.google|100\.100\.100\.200"),
    ("ssh", r"\bssh\b|\bscp\b|paramiko"),
    ("crontab", r"crontab|/etc/cron|rc\.local|\.bashrc|\.profile|\.zshrc"),
    ("systemd", r"systemctl|systemd|\.service\b"),
    ("authorized_keys", r"authorized_keys"),
    ("curl_exfil", r"\bcurl\b|\bwget\b"),
]
_COMPILED = [(name, re.compile(pat, re.IGNORECASE)) for name, pat in _FAMILY_PATTERNS]
_HELDOUT = [(name, rx) for name, rx in _COMPILED if name in HELDOUT_TOOL_FAMILIES]


def tool_family_of(text: str) -> str:
    """The tool family a text uses (first matching pattern), or ``"other"``."""
    return next((name for name, rx in _COMPILED if rx.search(text)), "other")


def heldout_tools_in(text: str) -> set[str]:
    """Held-out tool families any part of ``text`` mentions (train must have none)."""
    return {name for name, rx in _HELDOUT if rx.search(text)}
