"""Short constructors for events at one place in the input (a command, a call).

Tool knowledge (tools.py), the shell walker and the Python walker all build events the same way:
the same source span, depth and parent. This keeps that plumbing in one spot.
"""
from __future__ import annotations

from .addr import normalize_host, parse_url, split_host_port
from .context import Frame, Sink
from .model import CloudCall, Connect, EnvSet, FileRead, FileWrite, Persist, Privilege
from .paths import persist_mechanism

__all__ = ["Emit"]


class Emit:
    """Builds events for the span (`start`, `end`, local to the frame's text) into the sink."""

    __slots__ = ("frame", "sink", "start", "end", "parent", "unknown")

    def __init__(self, frame: Frame, sink: Sink, start: int, end: int, parent: int | None) -> None:
        self.frame, self.sink, self.start, self.end, self.parent = frame, sink, start, end, parent
        self.unknown: tuple[tuple[str, str], ...] = ()  # (argument as written, why unresolved)

    def _why(self, value: str | None, reasons: tuple[str, ...]) -> tuple[str, ...]:
        """`reasons` plus those of any unresolved argument the value was read from."""
        if value and self.unknown:
            extra = tuple(why for text, why in self.unknown if value in text and why not in reasons)
            return reasons + extra
        return reasons

    def _src(self):
        return self.frame.source(self.start, self.end)

    def _field_span(self, start: int, end: int) -> tuple[int, int]:
        src = self.frame.source(start, end)
        return src.start, src.end

    def connect(self, raw_host: str, port: int | None, scheme: str | None, tool: str, *,
                port_range: tuple[int, int] | None = None, listen: bool = False,
                url: str | None = None, reasons: tuple[str, ...] = ()) -> None:
        host = normalize_host(raw_host)
        if not host and not listen:
            return
        self.sink.add(Connect(self._src(), host, port, scheme, tool, raw_host, port_range,
                              "listen" if listen else "out", url, self.frame.depth, self.parent,
                              self._why(url or raw_host, reasons)))

    def url(self, text: str, tool: str, *, default_scheme: str | None = None) -> bool:
        """A URL, or with `default_scheme` a bare `host[:port][/path]`; True if one was seen."""
        target = parse_url(text)
        if target is None and default_scheme and text and text[0] not in "-/.~$@":
            hostport = text.split("/", 1)[0]
            host, port = split_host_port(hostport)
            if "." in host or host == "localhost" or port is not None:
                target = parse_url(f"{default_scheme}://{text}")
        if target is None:
            return False
        self.connect(target.raw_host, target.port, target.scheme, tool, url=text)
        return True

    def write(self, path: str, content: str | None, *, mode: str = "write", how: str = "redirect",
              reasons: tuple[str, ...] = (),
              content_spans: tuple[tuple[int, int], ...] = ()) -> None:
        """A file_write; `content_spans` are local spans of the text the content came from."""
        spans = tuple(self._field_span(s, e) for s, e in content_spans) \
            if self.frame.offset is not None else ()
        self.sink.add(FileWrite(self._src(), path, content, mode, how, self.frame.depth,  # type: ignore[arg-type]
                                self.parent, self._why(path, reasons), spans))
        mechanism = persist_mechanism(path)
        if mechanism:
            self.persist(mechanism, path, mode, content=content)
        if path.startswith("/etc/sudoers"):
            self.privilege("sudoers", path)

    def read(self, path: str, how: str = "command") -> None:
        self.sink.add(FileRead(self._src(), path, how, self.frame.depth, self.parent,  # type: ignore[arg-type]
                               self._why(path, ())))

    def persist(self, mechanism: str, target: str, detail: str = "", *,
                content: str | None = None) -> None:
        self.sink.add(Persist(self._src(), mechanism, target, detail, content,  # type: ignore[arg-type]
                              self.frame.depth, self.parent))

    def privilege(self, how: str, target: str = "") -> None:
        self.sink.add(Privilege(self._src(), how, target, self.frame.depth, self.parent))  # type: ignore[arg-type]

    def cloud(self, provider: str, service: str, operation: str,
              parameters: tuple[tuple[str, str], ...], tool: str,
              reasons: tuple[str, ...] = ()) -> None:
        for _, value in parameters:
            reasons = self._why(value, reasons)
        self.sink.add(CloudCall(self._src(), provider, service, operation, parameters, tool,  # type: ignore[arg-type]
                                self.frame.depth, self.parent, reasons))

    def env(self, name: str, value: str | None, *, exported: bool, scope: str,
            reasons: tuple[str, ...] = ()) -> None:
        self.sink.add(EnvSet(self._src(), name, value, exported, scope, self.frame.depth,  # type: ignore[arg-type]
                             self.parent, reasons))
