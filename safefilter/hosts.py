"""Network targets named in a finding's evidence, and the host allowlist that matches them as hosts.

Why this exists: `allowlist.hosts` used to match substrings of the evidence, so a reverse shell
with `# github.com` in a comment, `deploy@github.com.evil.example` and `10.0.0.50` (with
`10.0.0.5` listed) were all excused. Here the evidence is read for the hosts it actually talks to
(URLs, `user@host`, `host:port`, ssh forward specs, `/dev/tcp/host/port`, arguments of network
tools, bare IPs and dotted host names; shell comments ignored), each is normalised (case,
trailing dot, brackets, IDNA, IPv4 in decimal/hex/octal, IPv4-mapped IPv6) and a finding is
excused only when it names at least one target and every target is allowlisted.

The reading is deliberately conservative: a word that might be a host counts as a target, and a
host that cannot be known statically (`$HOST`, `$(...)`, a brace or glob pattern) is a target no
allowlist covers. Extra targets can only keep a finding, never excuse one. Everything here is a
single left-to-right pass over the text (no backtracking regexes): safe on hostile input.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator, Union
from urllib.parse import urlsplit

from .errors import ConfigError

__all__ = ["HostAllowlist", "Unresolved", "Target", "named_hosts", "network_targets", "strip_shell_comments"]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@dataclass(frozen=True)
class Unresolved:
    """A target that cannot be known statically (a variable, a substitution, a pattern)."""

    text: str


#: A normalised target: a host name (lowercase, no trailing dot, ASCII), an IP, a network or Unresolved.
Target = Union[str, IPAddress, IPNetwork, Unresolved]

# Separators between words once quotes are folded; `,` splits `("x", 4444)` and `-J a,b`.
_SEPARATORS = frozenset(" \t\r\n\f\v;&|()<>,")
_COMMAND_BREAKS = frozenset(";&|\n()")
_QUOTES = frozenset("'\"\\")
_DYNAMIC = ("$", "`")
_PATTERN_CHARS = frozenset("{}*?")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")

#: Commands whose plain (non-option) arguments are hosts.
NETWORK_TOOLS = frozenset(
    "nc ncat netcat socat telnet ssh autossh scp sftp mosh rsync nmap masscan zmap rustscan ping ping6 "
    "fping hping hping3 arping traceroute tracepath mtr curl wget ftp tftp lftp dig nslookup host whois "
    "openssl chisel ngrok cloudflared frpc bore sshuttle proxychains proxychains4 torsocks".split()
)
_SSH_TOOLS = frozenset(("ssh", "autossh"))
_SSH_ARG_OPTIONS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_SSH_FORWARD_OPTIONS = frozenset("RLDW")
_SSH_FORWARD_KEYS = frozenset(("localforward", "remoteforward", "dynamicforward"))
# `-o Key=value` settings that name no host; any other key's value is read as a host.
_SSH_HOSTLESS_KEYS = frozenset(
    "user port identityfile identitiesonly stricthostkeychecking userknownhostsfile globalknownhostsfile "
    "serveraliveinterval serveralivecountmax exitonforwardfailure batchmode connecttimeout connectionattempts "
    "loglevel compression passwordauthentication pubkeyauthentication preferredauthentications controlmaster "
    "controlpath controlpersist requesttty forwardagent forwardx11 sendenv setenv gatewayports tcpkeepalive "
    "hostkeyalgorithms pubkeyacceptedkeytypes pubkeyacceptedalgorithms ciphers macs kexalgorithms "
    "updatehostkeys visualhostkey addkeystoagent".split()
)
_SOCAT_ADDRESS_TYPES = frozenset(
    "tcp tcp4 tcp6 udp udp4 udp6 tcp-connect tcp-listen udp-connect udp-listen openssl openssl-connect "
    "openssl-listen socks socks4 socks4a socks5 proxy proxy-connect exec system sctp sctp-connect".split()
)
# Bare words ending in these are file names, not hosts (none of them is a top-level domain).
_FILE_SUFFIXES = frozenset(
    "gz tgz tar bz2 xz zst txt json jsonl yaml yml toml ini cfg conf log csv tsv whl deb rpm lock pem crt "
    "pid bak tmp png jpg jpeg gif svg ipynb parquet pyc pyi cpp hpp".split()
)
# Dotted words in a task's prose ending like these are file names (some are also top-level domains).
_SOURCE_SUFFIXES = frozenset("py js ts tsx jsx sh bash md rst rs go rb java kt scala swift c h cc cpp php pl r sql "
                             "html css scss env ps1 bat".split())
_LOCAL_NAMES = frozenset(("localhost", "ip6-localhost", "ip6-loopback", "*", ""))


# --- reading the evidence -----------------------------------------------------------------------

def strip_shell_comments(text: str) -> str:
    """`text` without shell comments: an unquoted `#` at the start of a word, up to the line's end."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < n:
                out.append(text[i:i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch == "\\" and i + 1 < n:
            out.append(text[i:i + 2])
            i += 2
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n;&|("):
            end = text.find("\n", i)
            if end < 0:
                break
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _commands(text: str) -> Iterator[list[str]]:
    """Simple commands of quote-folded text, each as its list of words."""
    words: list[str] = []
    word: list[str] = []
    for ch in text:
        if ch in _SEPARATORS:
            if word:
                words.append("".join(word))
                word = []
            if ch in _COMMAND_BREAKS and words:
                yield words
                words = []
        elif ch not in _QUOTES:
            word.append(ch)
    if word:
        words.append("".join(word))
    if words:
        yield words


def network_targets(text: str) -> list[Target]:
    """Every network target the text names, normalised, in order of appearance (duplicates kept)."""
    return list(_iter_targets(text))


def _iter_targets(text: str) -> Iterator[Target]:
    for words in _commands(strip_shell_comments(text)):
        yield from _command_targets(words)


def named_hosts(prose: str) -> list[Target]:
    """Hosts a task names in prose: IPs, CIDRs, dotted names, URLs, `user@host`, `host:port`.

    No shell reading (no comments, no tool arguments), and names that end like source files
    (`dates.py`) are not hosts; unreadable forms are left out, since they name nothing.
    """
    found: list[Target] = []
    for words in _commands(prose):
        for word in words:
            for target in _word_targets(word, positional=False):
                if isinstance(target, Unresolved):
                    continue
                if isinstance(target, str) and target.rsplit(".", 1)[-1] in _SOURCE_SUFFIXES:
                    continue
                found.append(target)
    return found


def _command_targets(words: list[str]) -> Iterator[Target]:
    i, n = 0, len(words)
    tool = ""
    while i < n:
        word = words[i]
        name = _command_name(word)
        if name in NETWORK_TOOLS:
            tool = name
            if name in _SSH_TOOLS:
                consumed, found = _ssh_targets(words, i + 1)
                yield from found
                i = consumed
                tool = ""
                continue
            i += 1
            continue
        yield from _word_targets(word, positional=bool(tool))
        i += 1


def _command_name(word: str) -> str:
    """`nc` for `nc` or `/usr/bin/nc`; "" for a URL or address that merely ends in `/nc`."""
    if "://" in word or "@" in word or ":" in word or word.lower().startswith(("/dev/tcp/", "/dev/udp/")):
        return ""
    return word.rsplit("/", 1)[-1].lower()


def _ssh_targets(words: list[str], i: int) -> tuple[int, list[Target]]:
    """Targets of one ssh invocation (options, forward specs, destination); returns where its remote command starts."""
    found: list[Target] = []
    n = len(words)
    while i < n:
        word = words[i]
        if word.startswith("-") and len(word) > 1:
            flags = word[1:]
            for k, flag in enumerate(flags):
                if flag not in _SSH_ARG_OPTIONS:
                    continue
                value = flags[k + 1:]
                if not value and i + 1 < n:
                    i += 1
                    value = words[i]
                if flag in _SSH_FORWARD_OPTIONS:
                    found.extend(_forward_spec_targets(value))
                elif flag == "J":
                    found.extend(_word_targets(value, positional=True))
                elif flag == "o":
                    found.extend(_ssh_setting_targets(value))
                break
            i += 1
            continue
        found.extend(_word_targets(word, positional=True))  # the destination
        return i + 1, found
    return i, found


def _ssh_setting_targets(setting: str) -> list[Target]:
    """Hosts in one `-o Key=value` (ProxyJump=..., HostName=..., RemoteForward=...)."""
    key, _, value = setting.partition("=")
    key = key.lower()
    if not value or key in _SSH_HOSTLESS_KEYS:
        return []
    if key in _SSH_FORWARD_KEYS:
        return _forward_spec_targets(value)
    return _word_targets(value, positional=True)


def _forward_spec_targets(spec: str) -> list[Target]:
    """Hosts of `[bind:]port:host:hostport` / `[bind:]port`; the loopback end is the agent's own box."""
    found: list[Target] = []
    for part in _split_colons(spec):
        if not part or part.isdigit() or "/" in part:
            continue
        target = parse_host(part, loose=True)
        if target is None or not _is_local(target):
            found.append(target if target is not None else Unresolved(part))
    return found


def _split_colons(text: str) -> list[str]:
    """Split on `:` outside `[...]`, dropping the brackets (so `[::1]:22` gives `::1`, `22`)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _word_targets(word: str, *, positional: bool) -> list[Target]:
    """Targets named by one word; `positional` when the word is an argument of a network tool."""
    scheme = word.find("://")
    eq = word.rfind("=", 0, scheme if scheme >= 0 else len(word))
    if eq >= 0:
        word = word[eq + 1:]  # `--host=x`, `HOST=x`, `host=x` in code: the value is what may be a host
    if not word or word.startswith("-") and "://" not in word:
        return []
    if any(d in word for d in _DYNAMIC):
        return [Unresolved(word)]  # `$HOST`, `$(...)`: whatever it expands to cannot be checked
    if "://" in word:
        return _url_targets(word)
    lowered = word.lower()
    if lowered.startswith(("/dev/tcp/", "/dev/udp/")):
        host = word[9:].split("/", 1)[0]
        return [parse_host(host, loose=True) or Unresolved(host)]
    if "@" in word:
        host = word.rsplit("@", 1)[1]
        if host.startswith("["):
            host = host[1:].split("]", 1)[0]
        elif ":" in host:
            host = host.split(":", 1)[0]
        if not host or "/" in host:
            return []
        return [parse_host(host, loose=True) or Unresolved(host)]
    if any(c in _PATTERN_CHARS for c in word):
        return [Unresolved(word)] if positional or "." in word or ":" in word else []
    if "/" in word:
        return _network_literal(word)
    if ":" in word:
        return _colon_targets(word)
    if word.isdigit():
        return []  # a port or a count; decimal addresses are read where a host must stand (URL, user@, /dev/tcp)
    target = parse_host(word, loose=positional)
    if target is None:
        # a network tool's argument that looks like a name but is none we can read is not vouched for
        return [Unresolved(word)] if positional and ("." in word or not word.isascii()) else []
    if isinstance(target, str) and (_is_file_name(target) or not positional and "." not in target):
        return []
    return [target]


def _url_targets(word: str) -> list[Target]:
    try:
        parts = urlsplit(word)
        host = parts.hostname
    except ValueError:
        return [Unresolved(word)]
    if parts.scheme.lower() == "file":
        return []
    if not host:
        return [Unresolved(word)]
    return [parse_host(host, loose=True) or Unresolved(host)]


def _network_literal(word: str) -> list[Target]:
    """A CIDR range (`10.0.0.0/24`) is a target; any other word with a slash is a path."""
    addr, _, prefix = word.partition("/")
    if not prefix.isdigit():
        return []
    try:
        return [ipaddress.ip_network(f"{_strip_brackets(addr)}/{prefix}", strict=False)]
    except ValueError:
        return []


def _colon_targets(word: str) -> list[Target]:
    """`host:port`, bare IPv6, socat addresses (`TCP:host:port`) and forward specs."""
    bare = _strip_brackets(word.split("%", 1)[0])
    try:
        return [_normalise_ip(ipaddress.ip_address(bare))]
    except ValueError:
        pass
    parts = _split_colons(word)
    if parts and parts[0].lower() in _SOCAT_ADDRESS_TYPES:
        parts = parts[1:]
    if len(parts) >= 3 and any(p.isdigit() for p in parts):
        return _forward_spec_targets(word)
    found: list[Target] = []
    for part in parts:
        if not part or part.isdigit() or "/" in part:
            continue
        target = parse_host(part, loose=True)
        if target is not None:
            found.append(target)
    return found


def _is_file_name(host: str) -> bool:
    return host.rsplit(".", 1)[-1] in _FILE_SUFFIXES


# --- normalising one host -----------------------------------------------------------------------

def _strip_brackets(text: str) -> str:
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def _normalise_ip(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _loose_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """IPv4 as inet_aton reads it: 1 to 4 parts, each decimal, 0x-hex or 0-octal (`0x7f.1`, `2130706433`)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:], 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
        if values[-1] < 0:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def parse_host(text: str, *, loose: bool = False) -> Target | None:
    """One host, normalised; None when `text` is not a host. `loose` also reads odd IPv4 spellings."""
    host = _strip_brackets(text.strip()).split("%", 1)[0].rstrip(".").lower()
    if not host or len(host) > 253:  # longer is no DNS name (and keeps IDNA work bounded)
        return None
    if ":" in host:
        try:
            return _normalise_ip(ipaddress.ip_address(host))
        except ValueError:
            return None
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        pass
    if all(c in "0123456789.xabcdef" for c in host) and (loose or host.count(".") == 3):
        ip = _loose_ipv4(host)
        if ip is not None:
            return ip
        if host.replace(".", "").isdigit():
            return None  # numbers with dots that are not an address (a version, a decimal)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not all(c in _HOST_CHARS for c in host):
        return None
    labels = host.split(".")
    if any(not label or len(label) > 63 for label in labels) or len(host) > 253:
        return None
    if labels[-1].isdigit():
        return None
    return host


def _is_local(target: Target) -> bool:
    """The agent's own box: loopback or unspecified addresses, `localhost` (only for forward specs)."""
    if isinstance(target, str):
        return target in _LOCAL_NAMES or target.endswith(".localhost")
    if isinstance(target, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return target.is_loopback or target.is_unspecified
    return False


# --- the allowlist ------------------------------------------------------------------------------

class HostAllowlist:
    """`allowlist.hosts`: exact hosts and IPs, `.suffix` / `*.suffix` (subdomains only) and CIDR networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.hosts: set[str] = set()
        self.suffixes: set[str] = set()
        self.ips: set[IPAddress] = set()
        self.networks: list[IPNetwork] = []
        for entry in entries:
            self._add(entry)

    @classmethod
    def of_targets(cls, targets: Iterable[Target]) -> "HostAllowlist":
        """An allowlist of already parsed targets (the hosts a task names)."""
        allow = cls(())
        for target in targets:
            if isinstance(target, str):
                allow.hosts.add(target)
            elif isinstance(target, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
                allow.networks.append(target)
            elif not isinstance(target, Unresolved):
                allow.ips.add(target)
        return allow

    def __bool__(self) -> bool:
        return bool(self.hosts or self.suffixes or self.ips or self.networks)

    def _add(self, entry: str) -> None:
        raw = entry
        entry = entry.strip().lower() if isinstance(entry, str) else ""
        if "/" in entry and "://" not in entry:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=True))
                return
            except ValueError as exc:
                if not isinstance(parse_host(entry.split("/", 1)[0]), str):
                    raise ConfigError(f"allowlist.hosts: {raw!r} is not a CIDR network ({exc})") from None
        suffix = entry[2:] if entry.startswith("*.") else entry[1:] if entry.startswith(".") else None
        parsed = parse_host(suffix if suffix is not None else entry) if "/" not in entry else None
        if parsed is None or (suffix is not None and not isinstance(parsed, str)):
            raise ConfigError(
                f"allowlist.hosts: {raw!r} is not a host name, an IP address, a '.suffix' / '*.suffix' or a "
                "CIDR network (no scheme, port or path: 'github.com', '.github.com', '10.0.0.5', '10.0.0.0/24')")
        if suffix is not None:
            self.suffixes.add(str(parsed))
        elif isinstance(parsed, str):
            self.hosts.add(parsed)
        else:
            self.ips.add(parsed)

    def covers(self, target: Target) -> bool:
        """True when the allowlist accepts this one target."""
        if isinstance(target, Unresolved):
            return False
        if isinstance(target, str):
            if target in self.hosts:
                return True
            return any(target.endswith("." + s) for s in self.suffixes)
        if isinstance(target, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            if target.num_addresses == 1 and target.network_address in self.ips:
                return True
            return any(target.version == n.version and target.subnet_of(n) for n in self.networks)
        return target in self.ips or any(target in n for n in self.networks)

    def excuses(self, evidence: str) -> bool:
        """True when the evidence names at least one target and every target is allowlisted."""
        if not self:
            return False
        named = False
        for target in _iter_targets(evidence):
            if not self.covers(target):
                return False
            named = True
        return named
