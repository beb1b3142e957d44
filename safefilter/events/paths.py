"""Which written paths make code run later (persistence), for shell and Python writers alike.

A write to `~/.bashrc`, a crontab, a systemd unit or `authorized_keys` is an action even though
nothing runs yet (LABELING.md section 1): it also yields a `persist` event. Plain string tests,
no regular expressions.
"""
from __future__ import annotations

__all__ = ["persist_mechanism", "home_relative"]

_RC_NAMES = frozenset((
    ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv",
    ".zlogin", ".kshrc", ".cshrc", ".tcshrc", ".bash_logout", ".xinitrc", ".xprofile",
))
_RC_FILES = frozenset(("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zshrc",
                       "/etc/environment", "/etc/rc.local", "/etc/ld.so.preload"))
_HOME_PREFIXES = ("~/", "$HOME/", "${HOME}/")


def home_relative(path: str) -> str:
    """`$HOME/x`, `${HOME}/x` and `/root/x` or `/home/u/x` as `~/x`, for matching."""
    for prefix in _HOME_PREFIXES:
        if path.startswith(prefix):
            return "~/" + path[len(prefix):]
    if path.startswith("/root/"):
        return "~/" + path[6:]
    if path.startswith("/home/"):
        rest = path[6:]
        slash = rest.find("/")
        if slash > 0:
            return "~/" + rest[slash + 1:]
    return path


def persist_mechanism(path: str) -> str | None:
    """The persistence mechanism a write to `path` installs, or None."""
    p = home_relative(path.strip())
    base = p.rpartition("/")[2]
    if base in ("authorized_keys", "authorized_keys2") and (".ssh/" in p or p.startswith("/etc/ssh/")):
        return "authorized_keys"  # not a repo's fixture named authorized_keys
    if p.startswith("/etc/cron") or p.startswith("/var/spool/cron") or p == "/etc/anacrontab":
        return "cron"
    if p.endswith((".service", ".timer", ".socket", ".path")) and (
        (p.startswith("/") and "/systemd/" in p) or p.startswith("~/.config/systemd")
    ):
        return "systemd"
    if p.startswith(("/etc/systemd/", "/lib/systemd/system/", "/usr/lib/systemd/system/",
                     "~/.config/systemd/")):
        return "systemd"
    if p.startswith(("/etc/init.d/", "/etc/rc", "/etc/xdg/autostart/", "~/.config/autostart/")):
        return "rc" if p.startswith("/etc/rc") else "init"
    if p in _RC_FILES or p.startswith("/etc/profile.d/"):
        return "rc"
    if p.startswith("~/") and base in _RC_NAMES and p.count("/") == 1:
        return "rc"
    return None
