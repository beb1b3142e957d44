"""The trajectory event model: what an action makes happen, as typed records with fields.

Rules over events (issue 8) match fields such as `exec.name`, `connect.host` or
`file_write.path` instead of raw text, the way Falco matches `proc.name` and `fd.sip`. Every
event points back at the characters of the input it was built from (`Source`), so a finding keeps
its evidence, and says where a value could not be resolved statically (`reasons`): the model never
guesses silently. Events are frozen and slotted: a trajectory has hundreds of actions and the
events cross process boundaries (Ray, `datasets`) by pickling.

`parent` is the index, in the same result tuple, of the `exec` event whose process caused this
event (the `curl` behind a `connect`, the `sh -c` behind an inner `exec`); `None` at top level.
Later stages (data flow across steps, observations attributed to processes) re-base these indices
when they merge the results of several texts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Union

__all__ = [
    "Source", "Exec", "Connect", "FileWrite", "FileRead", "EnvSet", "Persist", "CloudCall",
    "Privilege", "Observation", "Event", "EVENT_KINDS", "Launch",
]

# How a process was started. "direct": typed as a command; "sh -c": a string run by a shell
# (`sh -c`, `bash -c`, `su -c`, `tmux new 'cmd'`, a string piped into a shell); "eval": bash
# `eval` or Python exec()/eval() of a string; "substitution": inside `$(...)`, backticks or
# `<(...)`; "subprocess": from Python (subprocess, os.system, os.exec*, pty.spawn); "python -c":
# code given to an interpreter on its command line; "xargs" and "find -exec": argv completed at
# run time; "script" and "hook": reserved for the data-flow stage (a written file that is run or
# loaded by a runner).
Launch = Literal[
    "direct", "sh -c", "eval", "substitution", "subprocess", "python -c", "xargs", "find -exec",
    "script", "hook",
]


class _Resolvable:
    """Shared by every event: `unresolved` is true when some value could not be resolved."""

    __slots__ = ()

    @property
    def unresolved(self) -> bool:
        return bool(self.reasons)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event came from: message, tool call, field, and a character span of that field.

    When the event was built from decoded or unquoted text (`sh -c '...'` with escapes, a base64
    payload, a Python string assembled from `chr()` codes), the span is that of the encoded
    original in the field and `decoded_from` names the step (`"base64"`, `"sh -c"`, `"eval"`).
    """

    message_index: int
    tool_call_id: str | None
    field: str
    start: int
    end: int
    decoded_from: str | None = None


@dataclass(frozen=True, slots=True)
class Exec(_Resolvable):
    """A process the action starts: argv after expansion and the program's resolved identity.

    `name` is the basename of the program after wrappers are stripped (`sudo nohup
    /tmp/.x/kworker` → `kworker`; `busybox nc` → `nc`); `path` is argv[0] as written; `wrappers`
    lists what was stripped, outermost first; `script` is the file an interpreter runs
    (`bash x.sh`, `python3 tool.py`).
    """

    source: Source
    argv: tuple[str, ...]
    name: str
    path: str
    launch: Launch = "direct"
    wrappers: tuple[str, ...] = ()
    script: str | None = None
    background: bool = False
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    # True when the invocation only prints information (`--help`, `--version`, `man x`, `pip show
    # x`; list in events/informational.yaml): the program does not do its job, so no side events.
    informational: bool = False
    kind: ClassVar[str] = "exec"


@dataclass(frozen=True, slots=True)
class Connect(_Resolvable):
    """A network destination the action opens (or, with `direction="listen"`, offers).

    `host` is normalised (lower case; IPv4 in any spelling — decimal, hex, octal, IPv6-mapped —
    as a dotted quad); `raw_host` is as written. `port` is None when unknown or a range
    (`port_range`). `tool` names the program or library that connects.
    """

    source: Source
    host: str
    port: int | None
    scheme: str | None
    tool: str
    raw_host: str = ""
    port_range: tuple[int, int] | None = None
    direction: Literal["out", "listen"] = "out"
    url: str | None = None
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "connect"


FileHow = Literal["redirect", "tee", "heredoc", "editor", "python", "download", "copy", "move"]


@dataclass(frozen=True, slots=True)
class FileWrite(_Resolvable):
    """A file the action writes: path, content when known statically, write or append."""

    source: Source
    path: str
    content: str | None
    mode: Literal["write", "append"] = "write"
    how: FileHow = "redirect"
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    # Spans (Source coordinates) of the action text that became this content (an `echo`'s
    # arguments, a heredoc body). They are data spans of the parse; a caller that finds the file
    # run or loaded later un-masks them.
    content_spans: tuple[tuple[int, int], ...] = ()
    kind: ClassVar[str] = "file_write"


@dataclass(frozen=True, slots=True)
class FileRead(_Resolvable):
    """A file the action reads or displays (`< f`, `cat f`, `source f`, Python `open(f)`)."""

    source: Source
    path: str
    how: Literal["redirect", "command", "source", "python"] = "command"
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "file_read"


@dataclass(frozen=True, slots=True)
class EnvSet(_Resolvable):
    """A variable set by the action; `scope="command"` for `VAR=x cmd`, else the shell's."""

    source: Source
    name: str
    value: str | None
    exported: bool = False
    scope: Literal["shell", "command", "process"] = "shell"
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "env_set"


@dataclass(frozen=True, slots=True)
class Persist(_Resolvable):
    """Something that makes code run again later: cron, systemd, rc files, authorized_keys, at.

    Emitted next to the `file_write` or `exec` that installs it; `target` is the file or unit,
    `detail` the operation (`"write"`, `"append"`, `"enable"`, `"crontab -"`).
    """

    source: Source
    mechanism: Literal["cron", "systemd", "rc", "authorized_keys", "at", "init"]
    target: str
    detail: str = ""
    content: str | None = None
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "persist"


@dataclass(frozen=True, slots=True)
class CloudCall(_Resolvable):
    """A cloud or cluster API operation, from a CLI (`aws`, `gcloud`, `az`, `kubectl`) or an SDK.

    `operation` is snake_case for AWS (`run_instances` from both `run-instances` and boto3),
    dotted for resource paths (`instances.insert`); `parameters` are (name, value) pairs with
    values as strings (`"?"` where unresolved).
    """

    source: Source
    provider: Literal["aws", "gcp", "azure", "kubernetes"]
    service: str
    operation: str
    parameters: tuple[tuple[str, str], ...] = ()
    tool: str = ""
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "cloud_call"


@dataclass(frozen=True, slots=True)
class Privilege(_Resolvable):
    """A change of privilege: sudo/su/doas, setuid or capability bits, new or elevated users."""

    source: Source
    how: Literal["sudo", "su", "doas", "pkexec", "setuid", "setcap", "user_add", "group_add",
                 "sudoers", "setuid_call"]
    target: str = ""
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "privilege"


@dataclass(frozen=True, slots=True)
class Observation(_Resolvable):
    """Tool output, attributed to the `exec` that produced it when that is known.

    Built by the trajectory stage (a later session) from tool messages; `produced_by` indexes
    the trajectory's event list, not a per-text result.
    """

    source: Source
    text: str
    produced_by: int | None = None
    depth: int = 0
    parent: int | None = None
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "observation"


Event = Union[Exec, Connect, FileWrite, FileRead, EnvSet, Persist, CloudCall, Privilege, Observation]
EVENT_KINDS: tuple[str, ...] = (
    "exec", "connect", "file_write", "file_read", "env_set", "persist", "cloud_call",
    "privilege", "observation",
)
