"""Runners that load written files when they run (data flow, `flow.py`): ssh and its client
config, git aliases and hooks, pre-commit, pytest, builds, make, npm, tox, nox, crontab,
systemd, kubectl manifests, compose files.

Each runner is `runner(walker, index, exec, chain)`: it looks up the files this invocation of
the program reads in the walker's virtual file system, reads the facts it needs from them
(`configs.py`) and derives what then runs (`Walker.run_text`, `run_lines`, `derive`, `emit`).
Which file names each runner reads lives in `flow_data.yaml`.
"""
from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any, Callable

from . import configs
from .flow import TrackedFile, Walker, base_name, dir_name, join_path, norm_path
from .model import CloudCall, Exec
from .tools import SSH_VALUE_OPTIONS, positional

__all__ = ["RUNNERS", "npm"]

# ssh options that change where or how a connection goes (others, like ServerAliveInterval,
# change nothing a rule looks at: no derived exec for them).
_SSH_ROUTING = frozenset(("hostname", "port", "user", "proxycommand", "proxyjump"))

_PLAYBOOK_VALUE = frozenset(("-i", "--inventory", "-e", "--extra-vars", "-l", "--limit", "-u",
                             "--user", "-t", "--tags", "--skip-tags", "-f", "--forks",
                             "--vault-password-file", "--private-key", "-c", "--connection"))


def ssh(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`ssh alias` with a written ssh config: the ssh exec with HostName and forwards."""
    d = w.data
    args = list(ev.argv[1:])
    pos = positional(args, SSH_VALUE_OPTIONS)
    if not pos:
        return
    paths = [args[k + 1] for k, a in enumerate(args[:-1]) if a == "-F"] or list(d.ssh_configs)
    user, _, alias = pos[0].rpartition("@")
    for path in paths:
        f = w.lookup(path, by_name=False)
        if f is None or f.content is None:
            continue
        host = configs.ssh_host_options(f.content, alias)
        if host is None or not (host.forwards or set(host.options) & _SSH_ROUTING):
            continue
        w.use(f)
        o = host.options
        extra: list[str] = []
        for flag, spec in host.forwards[:16]:
            extra += [flag, spec]
        if "port" in o:
            extra += ["-p", o["port"]]
        for key, opt in (("proxycommand", "ProxyCommand"), ("proxyjump", "ProxyJump")):
            if key in o:
                extra += ["-o", f"{opt}={o[key]}"]
        user = user or o.get("user", "")
        dest = (user + "@" if user else "") + o.get("hostname", alias)
        k = args.index(pos[0])
        argv = ["ssh"] + extra + args[:k] + [dest] + args[k + 1:]
        top = {"path": ev.path, "launch": ev.launch, "wrappers": ev.wrappers,
               "background": ev.background}
        w.derive(shlex.join(argv), "shell", ev.source, False, 0,
                 f"ssh_config:{f.path}", i, ev.parent, None, chain, top=top)
        return


def git(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`git x` where `x` is an alias in a written git config: its command as a hook."""
    args = list(ev.argv[1:])
    k = 0
    inline: dict[str, str] = {}  # `git -c alias.x='!cmd' x`
    while k < len(args) and args[k].startswith("-"):
        if args[k] == "-c" and k + 1 < len(args):
            name, _, value = args[k + 1].partition("=")
            if name.lower().startswith("alias."):
                inline[name[6:].lower()] = value
        k += 2 if args[k] in ("-C", "-c", "--git-dir", "--work-tree") else 1
    if k >= len(args):
        return
    if args[k] == "config":
        pos = [a for a in args[k + 1:] if not a.startswith("-")]
        if len(pos) == 2 and pos[0].lower() == "core.hookspath":
            w.hooks_set.append(pos[1])  # `git config core.hooksPath .githooks`
        return
    git_hooks(w, i, args[k], args[k + 1:], chain)
    sub, rest = args[k].lower(), args[k + 1:]
    hit: tuple[TrackedFile, int, str] | None = None
    for key in sorted(w.git_keys):
        f = w.files.get(key)
        if f is not None and f.content:
            alias = configs.git_aliases(f.content).get(sub)
            if alias is not None:
                hit = (f, alias[0], alias[1])
    tail = (" " + shlex.join(rest)) if rest else ""
    if sub in inline:
        value = inline[sub]
        text = value[1:] if value.startswith("!") else "git " + value
        w.derive(text + tail, "shell", ev.source, False, 0, "hook:git:-c", i, i, "hook", chain)
        return
    if hit is None:
        return
    f, offset, value = hit
    w.use(f)
    if value.startswith("!"):
        text, offset = value[1:], offset + 1
    else:
        text = "git " + value
    w.derive(text + tail, "shell", f.source, f.exact and not tail and
             not text.startswith("git "), offset, f"hook:git:{f.path}", i, i, "hook", chain)


def git_hooks(w: Walker, i: int, sub: str, rest: list[str], chain: int) -> None:
    """`git commit` runs `.git/hooks/pre-commit` (or core.hooksPath's), and the pre-commit
    framework's hooks once `pre-commit install` ran; `--no-verify` skips the checks."""
    d = w.data
    hooks = d.git_hooks.get(sub, ())
    if not hooks:
        return
    skip = "--no-verify" in rest or (sub == "commit" and "-n" in rest)
    dirs = [".git/hooks"] + hooks_paths(w)
    for hook in hooks:
        if skip and hook in d.git_verify_hooks:
            continue
        for directory in dirs:
            f = w.lookup(join_path(directory, hook), by_name=False)
            if f is not None:
                w.run_text(i, f, None, "hook", f"hook:git:{f.path}", chain)
                break
    if w.precommit_installed and "pre-commit" in hooks and not skip:
        precommit_hooks(w, i, chain)


def hooks_paths(w: Walker) -> list[str]:
    out = w.hooks_set[-4:]
    for key in sorted(w.git_keys):
        f = w.files.get(key)
        if f is not None and f.content:
            value = configs.git_option(f.content, "core", "hookspath")
            if value:
                out.append(value)
    return out


def precommit(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`pre-commit run` runs the local hooks of .pre-commit-config.yaml now; `pre-commit
    install` makes every later `git commit` run them."""
    args = [a for a in ev.argv[1:] if not a.startswith("-")]
    if args[:1] == ["install"]:
        w.precommit_installed = True
    elif args[:1] == ["run"] or not args:
        precommit_hooks(w, i, chain)


def precommit_hooks(w: Walker, i: int, chain: int) -> None:
    for name in w.data.precommit_configs:
        f = w.lookup(name, by_name=False)
        if f is not None and f.content is not None:
            w.use(f)
            lines = [(-1, e) for e in configs.precommit_entries(f.content)]
            w.run_lines(i, lines, f.source, False, f"hook:pre-commit:{f.path}", chain)
            return


def pytest(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """pytest imports conftest.py and test files: their code runs as hooks. A run without
    file arguments collects every test file written or changed since the last such run (the
    others ran before, with the same content); a run naming files collects those."""
    named = [a for a in ev.argv[1:] if a.endswith(".py")]
    if named:
        found = [w.lookup(n, by_name=False) for n in named[:32]]
    else:
        found = [w.files.get(k) for k in sorted(w.test_dirty)]
        w.test_dirty.clear()
    found = [w.files.get(k) for k in sorted(w.conftest_keys)] + found
    for f in found:
        if f is not None:
            w.run_text(i, f, "python", "hook", f"hook:pytest:{f.path}", chain, strip=True)


def build(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`pip install .`, `python -m build`, `pip wheel .`: setup.py and build hooks run."""
    args = list(ev.argv[1:])
    if "-m" in args:
        args = args[args.index("-m") + 2:]
    if args[:1] == ["pip"]:  # uv pip install .
        args = args[1:]
    if ev.name in ("poetry", "hatch"):
        dirs = ["."] if args[:1] in (["install"], ["build"]) else []
    elif args and args[0] in ("install", "wheel", "download"):
        dirs = [a for a in positional(args[1:], frozenset(("-r", "-c", "-t", "--target")))
                if a.startswith((".", "/", "~")) or a.endswith("/")]
        dirs += [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-e", "--editable")]
    elif ev.argv[1:2] == ("-m",) or ev.name == "build":
        dirs = [a for a in args if not a.startswith("-")][:1] or ["."]
    else:
        return
    for directory in dirs[:4]:
        directory = directory.split("[", 1)[0]  # `.[dev]`
        for name in w.data.build_files:
            f = w.lookup(join_path(norm_path(directory), name), by_name=False)
            if f is not None:
                w.run_text(i, f, "python", "hook", f"hook:build:{f.path}", chain,
                           strip=True)


def make(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`make [target]`: the recipes of the target and its prerequisites."""
    args = list(ev.argv[1:])
    directory = next((args[k + 1] for k, a in enumerate(args[:-1]) if a == "-C"), "")
    files = [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-f", "--file")]
    names = files or [join_path(norm_path(directory), n) for n in w.data.make_files]
    f = next((x for x in (w.lookup(n, by_name=False) for n in names) if x), None)
    if f is None or f.content is None:
        return
    w.use(f)
    rules, default = configs.make_targets(f.content)
    goals = [a for a in positional(args, frozenset(("-C", "-f", "--file", "-j", "-l")))
             if "=" not in a] or ([default] if default else [])
    order: list[str] = []
    seen: set[str] = set()

    def visit(t: str, depth: int) -> None:
        if t in seen or depth > 16 or len(seen) > 64 or t not in rules:
            return
        seen.add(t)
        for dep in rules[t][0]:
            visit(dep, depth + 1)
        order.append(t)

    for goal in goals[:8]:
        visit(goal, 0)
    for t in order:
        w.run_lines(i, rules[t][1], f.source, f.exact, f"hook:make:{f.path}:{t}", chain)


def npm(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`npm run x` / `npm test` / `npm install`: package.json scripts with pre/post hooks."""
    args = [a for a in ev.argv[1:] if not a.startswith("-")]
    verb = args[0] if args else "install"
    verb = {"i": "install", "t": "test", "tst": "test", "run-script": "run", "add": ""}.get(
        verb, verb)
    if verb == "run" and len(args) > 1:
        names = ["pre" + args[1], args[1], "post" + args[1]]
    elif verb in w.data.npm_lifecycle:
        if verb == "install" and len(args) > 1:
            return  # installing a named package runs that package's scripts, not ours
        names = list(w.data.npm_lifecycle[verb])
    elif ev.name in ("yarn", "pnpm", "bun") and verb:
        names = ["pre" + verb, verb, "post" + verb]
    else:
        return
    f = w.lookup("package.json")
    if f is None or f.content is None:
        return
    scripts = configs.npm_scripts(f.content)
    if any(n in scripts for n in names):
        w.use(f)
    for n in names:
        if n in scripts:
            value = scripts[n]
            at = f.content.find(value)
            w.run_lines(i, [(max(at, 0), value)], f.source, f.exact and at >= 0,
                        f"hook:npm:{f.path}:{n}", chain)


def tox(w: Walker, i: int, ev: Exec, chain: int) -> None:
    f = w.lookup("tox.ini", by_name=False)
    if f is not None and f.content is not None:
        w.use(f)
        lines = configs.ini_commands(f.content, ("commands", "commands_pre", "commands_post"))
        w.run_lines(i, lines, f.source, f.exact, f"hook:tox:{f.path}", chain)


def nox(w: Walker, i: int, ev: Exec, chain: int) -> None:
    f = w.lookup("noxfile.py", by_name=False)
    if f is not None:
        w.run_text(i, f, "python", "hook", f"hook:nox:{f.path}", chain, strip=True)


def crontab(w: Walker, i: int, ev: Exec, chain: int) -> None:
    pos = positional(list(ev.argv[1:]), frozenset(("-u",)))
    if not pos or pos[0] == "-" or any(a in ("-l", "-r", "-e") for a in ev.argv):
        return
    f = w.lookup(pos[0])
    if f is not None and f.content is not None:
        w.use(f)
        w.run_lines(i, configs.cron_commands(f.content, with_user=False), f.source,
                    f.exact, f"cron:{f.path}", chain)


def systemctl(w: Walker, i: int, ev: Exec, chain: int) -> None:
    pos = positional(list(ev.argv[1:]), frozenset(("-H", "--host", "-M", "--machine")))
    if not pos or pos[0] not in ("enable", "start", "restart", "reenable", "link",
                                 "reload-or-restart", "try-restart"):
        return
    for unit in pos[1:9]:
        names = [unit] if "." in base_name(unit) else [unit + ".service"]
        if names[0].endswith(".timer"):
            names.append(names[0][:-6] + ".service")
        for n in names:
            f = w.lookup(n)
            if f is not None and f.content is not None:
                w.use(f)
                w.run_lines(i, configs.unit_commands(f.content), f.source, f.exact,
                            f"hook:systemd:{f.path}", chain)


def kubectl(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`kubectl apply|create|replace -f m.yaml`: each object as a `cloud_call`."""
    args = list(ev.argv[1:])
    pos = positional(args, frozenset(("-f", "--filename", "-n", "--namespace", "-o")))
    if not pos or pos[0] not in ("apply", "create", "replace"):
        return
    paths = [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-f", "--filename")]
    paths += [a.partition("=")[2] for a in args if a.startswith("--filename=")]
    for path in paths[:8]:
        f = w.lookup(path, by_name=False)
        if f is None or f.content is None:
            continue
        w.use(f)
        src = replace(ev.source, decoded_from=f"manifest:{f.path}")
        for params in configs.k8s_objects(f.content):
            kind = dict(params).get("kind", "").lower()
            w.emit(i, CloudCall(src, "kubernetes", kind, pos[0], params, ev.name,
                                ev.depth, i))


def docker(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`docker compose ...` or `docker build` / `docker buildx build` / `docker image build`."""
    args = list(ev.argv[1:])
    if args[:1] == ["compose"]:
        compose(w, i, ev, chain)
    elif args[:1] == ["build"] or args[:2] in (["buildx", "build"], ["image", "build"]):
        docker_build(w, i, args[args.index("build") + 1:], chain)


def docker_build(w: Walker, i: int, args: list[str], chain: int) -> None:
    """The `RUN` lines of the Dockerfile run at build time (hooks of the build)."""
    files = [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-f", "--file")]
    pos = positional(args, frozenset(("-f", "--file", "-t", "--tag", "--build-arg", "--target",
                                      "--platform", "--network", "--progress", "--secret",
                                      "--ssh", "-o", "--output", "--cache-from", "--label")))
    context = norm_path(pos[-1]) if pos else ""
    names = files or [join_path(context, n) for n in w.data.dockerfiles]
    f = next((x for x in (w.lookup(n, by_name=False) for n in names) if x), None)
    if f is None or f.content is None:
        return
    w.use(f)
    w.run_lines(i, configs.dockerfile_runs(f.content), f.source, f.exact,
                f"hook:docker-build:{f.path}", chain)


def terraform(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`terraform apply` / `tofu apply`: each resource of the written `.tf` files as the
    `cloud_call` that creates it (instance types, accelerators and counts as parameters)."""
    args = list(ev.argv[1:])
    chdir = next((a.partition("=")[2] for a in args if a.startswith("-chdir=")), "")
    pos = [a for a in args if not a.startswith("-")]
    if pos[:1] != ["apply"] or "-destroy" in args:
        return
    d = w.data
    where = norm_path(chdir)
    for key in sorted(w.tf_keys):
        f = w.files.get(key)
        if f is None or f.content is None:
            continue
        folder = dir_name(key)
        if where and folder != where and not folder.endswith("/" + where):
            continue
        w.use(f)
        if ("terraform", key, f.content) in w.derived:
            continue  # applied before with the same content: the same resources
        w.derived.add(("terraform", key, f.content))
        src = replace(ev.source, decoded_from=f"terraform:{f.path}")
        for rtype, _name, params in configs.terraform_resources(f.content):
            mapped = d.terraform_resources.get(rtype)
            if mapped is None:
                provider = next((p for prefix, p in d.terraform_providers.items()
                                 if rtype.startswith(prefix)), None)
                if provider is None:
                    continue
                mapped = (provider, "terraform", rtype)
            w.emit(i, CloudCall(src, mapped[0], mapped[1], mapped[2],  # type: ignore[arg-type]
                                params, ev.name, ev.depth, i))


def ansible_playbook(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`ansible-playbook play.yml`: its shell/command/raw tasks and the local scripts of its
    script tasks run (on the managed hosts, which can be this one)."""
    for book in positional(list(ev.argv[1:]), _PLAYBOOK_VALUE)[:4]:
        f = w.lookup(book, by_name=False)
        if f is None or f.content is None:
            continue
        w.use(f)
        tag = f"hook:ansible:{f.path}"
        for kind, value in configs.ansible_commands(f.content):
            if kind == "shell":
                at = f.content.find(value)
                w.run_lines(i, [(at, value)], f.source, f.exact and at >= 0, tag, chain)
            else:
                script = w.lookup(join_path(dir_name(f.path), value), by_name=False) \
                    or w.lookup(value, by_name=False)
                if script is not None:
                    w.run_text(i, script, None, "hook", f"{tag}:{script.path}", chain)


def at_job(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`at -f job.sh TIME`: the file runs later (`at` reading stdin is the parser's persist)."""
    args = list(ev.argv[1:])
    if any(a in ("-l", "-d", "-r", "-c") for a in args):
        return
    path = next((args[k + 1] for k, a in enumerate(args[:-1]) if a == "-f"), None)
    f = w.lookup(path) if path else None
    if f is not None:
        w.run_text(i, f, "shell", "hook", f"hook:at:{f.path}", chain)


def compose(w: Walker, i: int, ev: Exec, chain: int) -> None:
    """`docker compose up|run|start|create`: each service as the `docker run` it means."""
    args = list(ev.argv[1:])
    if ev.name == "docker" or ev.name == "podman":
        if not args or args[0] != "compose":
            return
        args = args[1:]
    pos = positional(args, frozenset(("-f", "--file", "-p", "--project-name")))
    if not pos or pos[0] not in ("up", "run", "start", "create"):
        return
    names = [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-f", "--file")]
    if names:
        found = [w.lookup(n, by_name=False) for n in names[:4]]
    else:
        base = next((x for x in (w.lookup(n, by_name=False)
                                 for n in w.data.compose_files) if x), None)
        over = next((x for x in (w.lookup(n, by_name=False)
                                 for n in w.data.compose_overrides) if x), None)
        found = [base, over]
    for f in found:
        if f is None or f.content is None:
            continue
        w.use(f)
        for svc in configs.compose_services(f.content):
            compose_service(w, i, ev, f, svc, chain)


def compose_service(w: Walker, i: int, ev: Exec, f: TrackedFile, svc: dict[str, Any],
                    chain: int) -> None:
    """A service: the `docker run` it amounts to, and its command as the container's
    process (parent: that docker run)."""
    tag = f"hook:compose:{f.path}:{svc['name']}"
    argv = _docker_run(svc)
    first = w.derive(shlex.join(argv), "shell", ev.source, False, 0, tag,
                     i, i, "hook", chain) if argv else -1
    command = _words(svc.get("entrypoint")) + _words(svc.get("command"))
    if command and first >= 0:
        w.derive(shlex.join(command), "shell", f.source, False, 0, tag, i,
                 first, "hook", chain)


def _words(value: Any) -> list[str]:
    """A compose `command`/`entrypoint`: a list of words, or a string split like a shell."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return [value]
    if isinstance(value, list):
        return [str(v) for v in value[:64]]
    return []


def _docker_run(svc: dict[str, Any]) -> list[str]:
    """The `docker run` argv a compose service amounts to."""
    if not isinstance(svc.get("image"), str):
        return []
    argv = ["docker", "run"]
    if svc.get("privileged") is True:
        argv.append("--privileged")
    for key, flag in (("network_mode", "--network"), ("pid", "--pid")):
        if isinstance(svc.get(key), str):
            argv += [flag, svc[key]]
    for key, flag in (("volumes", "-v"), ("cap_add", "--cap-add")):
        for v in (svc.get(key) or [])[:16] if isinstance(svc.get(key), list) else []:
            if isinstance(v, str):
                argv += [flag, v]
    argv.append(svc["image"])
    return argv + _words(svc.get("entrypoint")) + _words(svc.get("command"))


RUNNERS: dict[str, Callable[[Walker, int, Exec, int], None]] = {
    "ssh": ssh, "autossh": ssh, "git": git,
    "pytest": pytest, "py.test": pytest,
    "pip": build, "pip3": build, "build": build, "uv": build, "pipx": build,
    "poetry": build, "hatch": build,
    "make": make, "gmake": make, "tox": tox, "nox": nox,
    "crontab": crontab, "systemctl": systemctl,
    "kubectl": kubectl, "oc": kubectl,
    "docker": docker, "podman": docker, "docker-compose": compose,
    "podman-compose": compose, "pre-commit": precommit,
    "terraform": terraform, "tofu": terraform, "ansible-playbook": ansible_playbook,
    "at": at_job, "batch": at_job,
}


