"""What well-known programs do besides running: their network targets, cloud operations,
persistence, privilege changes and files, read from their argv.

`side_events(name, args, emit, stdin)` is called for every `exec` (from shell or from Python
argv lists) with the program's resolved name and its arguments after expansion. Only static
argv reading: option tables are small and cover the forms agents use.
"""
from __future__ import annotations

from typing import Callable

from .addr import split_host_port
from .emit import Emit

__all__ = ["side_events", "positional", "SSH_VALUE_OPTIONS"]


def positional(args: list[str], with_value: frozenset[str] | set[str], *, grouped: bool = True) -> list[str]:
    """Arguments that are not options nor option values (`-p 22`, `--port=22`, `-p22`); with
    `grouped`, a flag group's last letter may take the next word (`ssh -fNL spec`)."""
    out: list[str] = []
    skip = False
    ended = False
    for a in args:
        if skip:
            skip = False
            continue
        if ended or not a.startswith("-") or a == "-":
            out.append(a)
        elif a == "--":
            ended = True
        elif "=" in a and a.startswith("--"):
            continue
        elif a in with_value:
            skip = True
        elif not a.startswith("--") and len(a) > 2 and a[:2] in with_value:
            continue  # -p22: value attached
        elif grouped and not a.startswith("--") and len(a) > 2 and a[-1:] and ("-" + a[-1]) in with_value:
            skip = True  # -fNL: the last letter takes the next word
    return out


def _option(args: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of `names` (`-p 22`, `-p22`, `--port=22`, `--port 22`)."""
    value = None
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                value = args[i + 1]
            elif n.startswith("--") and a.startswith(n + "="):
                value = a[len(n) + 1:]
            elif not n.startswith("--") and a.startswith(n) and len(a) > len(n):
                value = a[len(n):]
    return value


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) <= 5 else None


def _user_host(text: str) -> tuple[str, str | None]:
    return text.rpartition("@")[2], (text.rpartition("@")[0] or None)


SSH_VALUE_OPTIONS = frozenset("-" + c for c in "BbcDEeFIiJLlmOoPpQRSWw")


def _ssh(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, SSH_VALUE_OPTIONS)
    if not pos:
        return
    dest = pos[0]
    port = _int(_option(args, ("-p",)))
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args) and args[i + 1].lower().startswith("port"):
            port = _int(args[i + 1].replace("=", " ").split()[-1]) or port
    if dest.startswith("ssh://"):
        em.url(dest, "ssh")
        return
    host, _ = _user_host(dest)
    em.connect(host, port or 22, "ssh", "ssh")
    jump = _option(args, ("-J",))
    if jump:
        for hop in jump.split(","):
            h, p = split_host_port(_user_host(hop)[0])
            em.connect(h, p or 22, "ssh", "ssh")


def _scp(args: list[str], em: Emit, stdin: str | None) -> None:
    port = _int(_option(args, ("-P",))) or 22
    for a in positional(args, frozenset(("-P", "-i", "-o", "-F", "-c", "-l", "-S", "-e"))):
        if ":" in a and not a.startswith(("/", ".", "~")):
            hostpart = a.split(":", 1)[0]
            if hostpart and "/" not in hostpart:
                em.connect(_user_host(hostpart)[0], port, "ssh", "scp")


_CURL_VALUE = frozenset((
    "-o", "-H", "-d", "-X", "-u", "-A", "-e", "-x", "-w", "-T", "-F", "-b", "-c", "-m", "-K", "-r",
    "-E", "-U", "-y", "-Y", "-z", "-C", "-Q", "--data", "--data-raw", "--data-binary",
    "--data-urlencode", "--header", "--output", "--request", "--user", "--user-agent", "--proxy",
    "--max-time", "--connect-timeout", "--retry", "--resolve", "--cert", "--key", "--cacert",
    "--form", "--cookie", "--write-out", "--upload-file", "--referer", "--config", "--socks5",
    "--socks5-hostname", "--interface", "--dns-servers", "--range",
))
_WGET_VALUE = frozenset((
    "-O", "-o", "-a", "-P", "-U", "-t", "-T", "-e", "-i", "-w", "--output-document",
    "--output-file", "--directory-prefix", "--user-agent", "--tries", "--timeout", "--header",
    "--post-data", "--user", "--password", "--execute", "--input-file",
))


def _fetcher(table: frozenset[str], out_opts: tuple[str, ...]) -> Callable[[list[str], Emit, str | None], None]:
    def run(args: list[str], em: Emit, stdin: str | None) -> None:
        tool = "curl" if table is _CURL_VALUE else "wget"
        for a in positional(args, table):
            em.url(a, tool, default_scheme="http")
        proxy = _option(args, ("-x", "--proxy", "--socks5", "--socks5-hostname"))
        if proxy:
            em.url(proxy if "://" in proxy else "http://" + proxy, tool)
        out = _option(args, out_opts)
        if out and out != "-":
            em.write(out, None, how="download")
        for path in _uploads(args):
            em.read(path)  # sent to the destination: the read half of an exfiltration
    return run


_UPLOAD_OPTS = frozenset(("-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F",
                          "--form", "-T", "--upload-file", "--post-file", "--body-file"))


def _uploads(args: list[str]) -> list[str]:
    """Files a client sends: `-d @f`, `-F x=@f`, `-T f`, `--post-file=f`."""
    out = []
    for i, a in enumerate(args):
        key, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
        if not eq:
            value = args[i + 1] if key in _UPLOAD_OPTS and i + 1 < len(args) else ""
        if key not in _UPLOAD_OPTS or not value:
            continue
        if key in ("-T", "--upload-file", "--post-file", "--body-file"):
            out.append(value)
        elif "@" in value:
            path = value.partition("@")[2].split(";", 1)[0]
            if path and path != "-":
                out.append(path)
    return out


_NC_VALUE = frozenset(("-p", "-s", "-w", "-i", "-e", "-c", "-x", "-X", "-q", "-O", "-I", "-T",
                       "-V", "-W", "-m", "--exec", "--sh-exec", "--proxy", "--source-port"))


def _port_spec(text: str) -> tuple[int | None, tuple[int, int] | None]:
    if text.isdigit():
        return _int(text), None
    lo, sep, hi = text.partition("-")
    if sep and lo.isdigit() and hi.isdigit() and len(lo) <= 5 and len(hi) <= 5:
        return None, (int(lo), int(hi))
    return None, None


def _nc(args: list[str], em: Emit, stdin: str | None) -> None:
    flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    listen = "l" in flags or "--listen" in args
    udp = "u" in flags or "--udp" in args
    scheme = "udp" if udp else "tcp"
    pos = positional(args, _NC_VALUE)
    local_port = _int(_option(args, ("-p",)))
    for i, a in enumerate(args[:-1]):
        if a.startswith("-") and not a.startswith("--") and a.endswith("p") and len(a) > 2:
            local_port = _int(args[i + 1])  # -lvnp 4444
    if listen:
        port = local_port if local_port is not None else (_int(pos[-1]) if pos else None)
        em.connect("0.0.0.0", port, scheme, "nc", listen=True)
        return
    if not pos:
        return
    host = pos[0]
    if len(pos) == 1:
        em.connect(host, None, scheme, "nc", reasons=("no port",))
    for spec in pos[1:] or ():
        port, rng = _port_spec(spec)
        em.connect(host, port, scheme, "nc", port_range=rng)


def _socat(args: list[str], em: Emit, stdin: str | None) -> None:
    for a in positional(args, frozenset()):
        head, _, rest = a.partition(":")
        kind = head.upper()
        rest = rest.split(",", 1)[0]
        if kind.endswith("-LISTEN") or kind.endswith("-L") or kind in ("TCP-L", "TCP4-L"):
            em.connect("0.0.0.0", _int(rest), "udp" if "UDP" in kind else "tcp", "socat", listen=True)
        elif kind in ("TCP", "TCP4", "TCP6", "TCP-CONNECT", "UDP", "UDP4", "UDP6", "OPENSSL",
                      "SSL", "UDP-CONNECT", "SCTP", "SCTP-CONNECT"):
            host, port = split_host_port(rest if rest.count(":") == 1 else rest)
            if rest.count(":") > 1:
                host, _, p = rest.rpartition(":")
                port = _int(p)
            em.connect(host, port, "udp" if "UDP" in kind else "tcp", "socat")
        elif kind in ("SOCKS4", "SOCKS4A", "SOCKS5", "PROXY"):
            parts = rest.split(":")
            if parts and parts[0]:
                em.connect(parts[0], _int(parts[-1]) if len(parts) > 1 else None, "socks", "socat")


def _targets(tool: str, table: frozenset[str], port_opts: tuple[str, ...], scheme: str | None):
    def run(args: list[str], em: Emit, stdin: str | None) -> None:
        spec = _option(args, port_opts) if port_opts else None
        port, rng = _port_spec(spec) if spec else (None, None)
        # scanners' short options are words of their own (`nmap -sS -Pn`), never flag groups
        for a in positional(args, table, grouped=False):
            if a[:1].isalnum() or a.startswith("["):
                em.connect(a, port, scheme, tool, port_range=rng)
    return run


def _telnet(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset(("-l", "-b", "-e", "-n")))
    if pos:
        em.connect(pos[0], _int(pos[1]) if len(pos) > 1 else 23, "telnet", "telnet")


def _dns(args: list[str], em: Emit, stdin: str | None) -> None:
    for a in args:
        if a.startswith("@") and len(a) > 1:
            em.connect(a[1:], 53, "dns", "dig")


def _git(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset(("-C", "-c", "-b", "--branch", "--depth", "-o", "--origin")))
    if len(pos) >= 3 and pos[0] == "config" and pos[1].startswith("alias."):
        # an alias is code that runs when invoked (`!cmd` in a shell): keep it for data flow
        scope = "~/.gitconfig" if ("--global" in args or "--system" in args) else ".git/config"
        em.write(scope, f"[alias]\n\t{pos[1][6:]} = {pos[2]}\n", mode="append", how="editor")
        return
    if pos and pos[0] in ("clone", "fetch", "pull", "push", "ls-remote", "submodule"):
        for a in pos[1:]:
            if not em.url(a, "git") and "@" in a and ":" in a.partition("@")[2]:
                em.connect(a.partition("@")[2].split(":", 1)[0], 22, "ssh", "git")


def _snake(word: str) -> str:
    return word.replace("-", "_")


def _params(args: list[str]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(args) and len(out) < 32:
        a = args[i]
        if a.startswith("--"):
            key, eq, value = a[2:].partition("=")
            if not eq and i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
                i += 1
            out.append((key, value if (eq or value) else "true"))
        elif a.startswith("-") and len(a) == 2 and i + 1 < len(args) and not args[i + 1].startswith("-"):
            out.append((a[1:], args[i + 1]))
            i += 1
        i += 1
    return tuple(out)


_AWS_GLOBAL = frozenset(("--region", "--profile", "--output", "--endpoint-url", "--query",
                         "--cli-read-timeout", "--cli-connect-timeout", "--color", "--ca-bundle"))


def _aws(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, _AWS_GLOBAL | {"--cli-input-json", "--instance-type", "--image-id",
                                          "--count", "--filters", "--user-name", "--key-name"})
    if len(pos) < 2:
        return
    service, op = pos[0], pos[1]
    rest = args[args.index(op) + 1:] if op in args else []
    em.cloud("aws", service, _snake(op), _params(rest), "aws")
    endpoint = _option(args, ("--endpoint-url",))
    if endpoint:
        em.url(endpoint, "aws")


_GCLOUD_VERBS = frozenset(("create", "delete", "update", "list", "describe", "start", "stop",
                           "ssh", "scp", "deploy", "submit", "run", "enable", "add-metadata",
                           "add-iam-policy-binding", "set-iam-policy", "resize", "set-machine-type",
                           "get-credentials", "print-access-token", "login", "activate-service-account"))


def _gcloud(args: list[str], em: Emit, stdin: str | None) -> None:
    words: list[str] = []
    last = 0
    for i, a in enumerate(args):
        if a.startswith("-") or len(words) >= 8:
            continue
        if i > 0 and args[i - 1].startswith("--") and "=" not in args[i - 1]:
            continue  # the value of a flag
        words.append(a)
        last = i
        if a in _GCLOUD_VERBS:
            break
    if len(words) < 2:
        return
    rest = args[last + 1:]
    params = _params(rest) + tuple(("name", a) for a in rest[:1] if not a.startswith("-"))
    em.cloud("gcp", words[0], ".".join(words[1:]).replace("-", "_"), params, "gcloud")


def _az(args: list[str], em: Emit, stdin: str | None) -> None:
    words = []
    for a in args:
        if a.startswith("-"):
            break
        words.append(a)
    if len(words) >= 2:
        rest = args[len(words):]
        em.cloud("azure", words[0], ".".join(words[1:]).replace("-", "_"), _params(rest), "az")


_KUBECTL_VALUE = frozenset(("-n", "--namespace", "--context", "--kubeconfig", "-f", "--filename",
                            "--image", "-o", "--output", "-c", "--container", "-l", "--selector",
                            "--overrides", "--replicas", "--restart", "--port", "--cluster", "--user"))


def _kubectl(args: list[str], em: Emit, stdin: str | None) -> None:
    head = args[:args.index("--")] if "--" in args else args
    pos = positional(head, _KUBECTL_VALUE)
    if not pos:
        return
    verb = pos[0]
    resource = {"run": "pod", "exec": "pod", "apply": "manifest", "cp": "pod",
                "port-forward": "pod", "debug": "pod"}.get(verb, pos[1] if len(pos) > 1 else "")
    em.cloud("kubernetes", resource, verb.replace("-", "_"), _params(head[head.index(verb) + 1:]),
             "kubectl")


def _crontab(args: list[str], em: Emit, stdin: str | None) -> None:
    if any(a in ("-l", "-r", "-e", "-i") for a in args):
        return
    pos = positional(args, frozenset(("-u",)))
    target = pos[0] if pos else "-"
    em.persist("cron", target, "crontab " + target, content=stdin if target == "-" else None)


def _systemctl(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset(("-H", "--host", "-M", "--machine", "-p", "--property")))
    if pos and pos[0] in ("enable", "start", "restart", "reenable", "link"):
        for unit in pos[1:]:
            em.persist("systemd", unit, pos[0])


def _service_rc(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset())
    if len(pos) >= 2 and pos[1] in ("defaults", "enable", "on"):
        em.persist("init", pos[0], pos[1])


def _at(args: list[str], em: Emit, stdin: str | None) -> None:
    if any(a in ("-l", "-d", "-r", "-c") for a in args):
        return
    em.persist("at", " ".join(positional(args, frozenset(("-f", "-q")))) or "now", "at",
               content=stdin)


def _chmod(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset(("--reference",)))
    if len(pos) < 2:
        return
    mode = pos[0]
    setid = ("s" in mode and not mode[:1].isdigit()) or (
        mode.isdigit() and len(mode) == 4 and mode[0] in "2467")
    if setid:
        for path in pos[1:]:
            em.privilege("setuid", path)


def _setcap(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset())
    em.privilege("setcap", " ".join(pos))


_ADMIN_GROUPS = frozenset(("sudo", "wheel", "admin", "root", "docker", "adm", "lxd", "disk"))


def _useradd(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset(("-m", "-s", "-G", "-g", "-d", "-u", "-c", "-p", "-e", "-k",
                                      "--shell", "--groups", "--home", "--uid", "--password")))
    em.privilege("user_add", pos[-1] if pos else "")
    _groups(args, em)


def _groups(args: list[str], em: Emit) -> None:
    groups = _option(args, ("-G", "-aG", "--groups", "-g"))
    if groups and set(groups.split(",")) & _ADMIN_GROUPS:
        em.privilege("group_add", groups)


def _usermod(args: list[str], em: Emit, stdin: str | None) -> None:
    _groups(args, em)


def _gpasswd(args: list[str], em: Emit, stdin: str | None) -> None:
    pos = positional(args, frozenset())
    if "-a" in args and pos and pos[-1] in _ADMIN_GROUPS:
        em.privilege("group_add", pos[-1])


def _tee(args: list[str], em: Emit, stdin: str | None) -> None:
    mode = "append" if ("-a" in args or "--append" in args) else "write"
    for path in positional(args, frozenset()):
        em.write(path, stdin, mode=mode, how="tee",
                 reasons=() if stdin is not None else ("content from a pipe",))


def _copy(how: str) -> Callable[[list[str], Emit, str | None], None]:
    def run(args: list[str], em: Emit, stdin: str | None) -> None:
        pos = positional(args, frozenset(("-t", "--target-directory", "-m", "--mode", "-o", "-g")))
        if len(pos) >= 2:
            em.write(pos[-1], None, how=how)
    return run


def _sed(args: list[str], em: Emit, stdin: str | None) -> None:
    if not any(a == "-i" or a.startswith("-i") or a.startswith("--in-place") for a in args):
        return
    pos = positional(args, frozenset(("-e", "-f", "--expression", "--file")))
    scripted = any(a in ("-e", "--expression", "-f", "--file") for a in args)
    for path in pos[0 if scripted else 1:]:
        em.write(path, None, how="editor", reasons=("edited in place by sed",))


def _reader(args: list[str], em: Emit, stdin: str | None) -> None:
    for path in positional(args, frozenset(("-n", "-c", "--lines", "--bytes"))):
        if path not in ("-", "{}"):
            em.read(path)


def _source(args: list[str], em: Emit, stdin: str | None) -> None:
    if args:
        em.read(args[0], "source")


_TABLE: dict[str, Callable[[list[str], Emit, str | None], None]] = {
    "ssh": _ssh, "autossh": _ssh, "scp": _scp, "sftp": _scp, "rsync": _scp,
    "curl": _fetcher(_CURL_VALUE, ("-o", "--output")),
    "wget": _fetcher(_WGET_VALUE, ("-O", "--output-document")),
    "nc": _nc, "ncat": _nc, "netcat": _nc, "nc.openbsd": _nc, "nc.traditional": _nc,
    "socat": _socat, "telnet": _telnet,
    "nmap": _targets("nmap", frozenset(("-p", "-oN", "-oX", "-oG", "-oA", "-iL", "--top-ports", "-e",
                                        "-S", "-D", "--script", "--script-args", "--exclude",
                                        "-g", "--source-port", "--max-rate", "--min-rate")),
                     ("-p",), None),
    "masscan": _targets("masscan", frozenset(("-p", "--ports", "--rate", "-oL", "-oJ", "-oX",
                                              "--exclude", "-e")), ("-p", "--ports"), None),
    "zmap": _targets("zmap", frozenset(("-p", "-o", "-r", "-B", "-i")), ("-p",), None),
    "ping": _targets("ping", frozenset(("-c", "-W", "-w", "-i", "-s", "-I", "-t")), (), "icmp"),
    "ping6": _targets("ping", frozenset(("-c", "-W", "-w", "-i", "-s", "-I")), (), "icmp"),
    "fping": _targets("fping", frozenset(("-c", "-t", "-i", "-r")), (), "icmp"),
    "hping3": _targets("hping3", frozenset(("-p", "-c", "-i", "-s")), ("-p",), "tcp"),
    "traceroute": _targets("traceroute", frozenset(("-m", "-q", "-w", "-p")), (), "icmp"),
    "dig": _dns, "nslookup": _dns, "host": _dns, "drill": _dns,
    "git": _git,
    "aws": _aws, "gcloud": _gcloud, "az": _az, "kubectl": _kubectl, "oc": _kubectl,
    "crontab": _crontab, "systemctl": _systemctl, "update-rc.d": _service_rc,
    "chkconfig": _service_rc, "at": _at, "batch": _at,
    "chmod": _chmod, "setcap": _setcap, "useradd": _useradd, "adduser": _useradd,
    "usermod": _usermod, "gpasswd": _gpasswd,
    "tee": _tee, "cp": _copy("copy"), "install": _copy("copy"), "mv": _copy("move"),
    "ln": _copy("copy"),  # a link runs what it points at: the same as a copy for the flow
    "cat": _reader, "head": _reader, "tail": _reader, "less": _reader, "more": _reader,
    "strings": _reader, "source": _source, ".": _source, "sed": _sed,
}


def side_events(name: str, args: list[str], em: Emit, stdin: str | None) -> None:
    """Emit what program `name` does with `args` besides running (connects, writes, ...)."""
    handler = _TABLE.get(name)
    if handler is not None:
        handler(args, em, stdin)
