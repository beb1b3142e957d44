"""Python source to events, over the standard `ast` (nothing is executed).

Statements are visited in source order with a flat name environment (simple constant
propagation; `pyfold.Folder` folds built strings), and calls are matched against sinks:
processes (`subprocess.*`, `os.system`, `os.popen`, `os.exec*`, `pty.spawn`, `asyncio`
subprocesses; string commands are parsed by the shell walker), network (`socket` connect / bind /
sendto, `urllib`, `requests`, `httpx`, `http.client`, `paramiko`, `ftplib`, `smtplib`,
`telnetlib`), cloud SDK clients (boto3, Google Cloud, Azure, Kubernetes) and their operations,
files (`open(...).write`, `pathlib` writes and reads, copies and renames; rc files, crontabs and
authorized_keys also yield `persist`), environment, privilege (`os.chmod` with setuid bits,
`os.setuid`) and `exec`/`eval` of folded strings. A string literal that is never passed to a sink
yields nothing, whatever it says.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, replace
from typing import Any, Iterator

from .addr import split_host_port
from .argv import Word, exec_words
from .context import Frame, Sink
from .emit import Emit
from .model import Exec
from .pyfold import UNKNOWN, Folder, as_text
from .informational import is_data_file
from .paths import persist_mechanism
from .pydata import Index, data_spans, mock_covers, mock_targets

__all__ = ["parse_into"]

_SUBPROCESS = frozenset(("run", "call", "check_call", "check_output", "Popen", "getoutput",
                         "getstatusoutput"))
_HTTP_VERBS = frozenset(("get", "post", "put", "delete", "head", "patch", "options", "request",
                         "urlopen", "Request", "stream", "urlretrieve", "fetch", "ws_connect",
                         "create_connection", "AsyncClient", "Client"))
_HTTP_LIBRARIES = frozenset(("requests", "httpx", "urllib", "urllib3", "aiohttp", "urllib2"))
_STMT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
_K8S_APIS = ("CoreV1Api", "AppsV1Api", "BatchV1Api", "RbacAuthorizationV1Api",
             "CustomObjectsApi", "NetworkingV1Api", "ApiClient")


@dataclass(frozen=True, slots=True)
class _Handle:
    """A cloud client object: provider, service, and the attribute path walked from it."""

    provider: str
    service: str
    path: tuple[str, ...] = ()
    mocked: bool = False  # made inside a test whose mock replaces its constructor (pydata.mock_covers)


@dataclass(frozen=True, slots=True)
class _File:
    path: str
    mode: str


def parse_into(text: str, frame: Frame, sink: Sink) -> bool:
    """Parse `text` as Python and add its events to `sink`; False (and a reason) if it does not
    parse or is over the size cap."""
    if len(text) > sink.caps.max_text:
        sink.note(f"text longer than {sink.caps.max_text} characters is not parsed")
        return False
    try:
        with warnings.catch_warnings():  # agent code's invalid escapes must not spam stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as e:
        sink.note(f"python syntax error: {e.msg} (line {e.lineno})")
        return False
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        sink.note(f"python did not parse: {type(e).__name__}")
        return False
    visitor = _Visitor(text, frame, sink)
    # one walk: names used anywhere (called, passed, decorated into a framework; a function that
    # is none of these is defined but not run by this code) and what data_spans needs
    index = Index(tree, sink.tick)
    visitor.referenced = index.referenced
    visitor.block(tree.body, 0)
    if frame.offset is not None and not sink.full:  # data spans need a verbatim text
        for start, end in data_spans(index, text, visitor.span, visitor.fold.qual,
                                     shown=sink.text_out):
            sink.mark_data(frame, start, end)
    return True


class _Visitor:
    def __init__(self, text: str, frame: Frame, sink: Sink) -> None:
        self.frame, self.sink = frame, sink
        self.env: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}
        self.fold = Folder(self.env, self.aliases, sink.caps.max_value)
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.consumed: set[int] = set()
        self.referenced: frozenset[str] = frozenset()
        self.mocks: list[tuple[tuple[str, ...], set[str]]] = []  # active test mocks: targets, names bound under them

    # ---- positions ---------------------------------------------------------------------------
    def _char(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        if not line.isascii():
            col = len(line.encode("utf-8", "surrogatepass")[:col].decode("utf-8", "ignore"))
        return self.starts[min(lineno - 1, len(self.starts) - 1)] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self._char(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        end = self._char(end_line, end_col) if end_col is not None else start
        return start, end

    def emit(self, node: ast.AST, parent: int | None = None) -> Emit:
        s, e = self.span(node)
        return Emit(self.frame, self.sink, s, e, parent if parent is not None else self.frame.parent)

    # ---- statements --------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], nest: int) -> None:
        if nest > self.sink.caps.max_nesting:
            self.sink.note("nesting cap reached")
            return
        for stmt in stmts:
            if not self.sink.tick():
                return
            self.statement(stmt, nest)

    def statement(self, stmt: ast.stmt, nest: int) -> None:
        targets = mock_targets(stmt, self.fold.qual)
        if targets:
            self.mocks.append((targets, set()))
            try:
                self._statement(stmt, nest)
            finally:
                self.mocks.pop()
        else:
            self._statement(stmt, nest)

    def _mocked(self, node: ast.Call, q: str, provider: str, service: str) -> bool:
        root = node.func
        while isinstance(root, (ast.Attribute, ast.Call)):
            root = root.value if isinstance(root, ast.Attribute) else root.func
        name = root.id if isinstance(root, ast.Name) else ""
        module = self.aliases.get(name, name)
        return any(mock_covers(targets, name in bound, qual=q, root_module=module, provider=provider, service=service)
                   for targets, bound in self.mocks)

    def _statement(self, stmt: ast.stmt, nest: int) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for _, bound in self.mocks:
                bound.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(stmt, ast.ImportFrom) and stmt.module:
            for a in stmt.names:
                self.aliases[a.asname or a.name] = f"{stmt.module}.{a.name}"
        self.calls(stmt)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if value is not None:
                folded = self.value_of(value)
                for t in targets:
                    self.bind(t, folded, value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            self.env[stmt.target.id] = self.fold.fold(ast.BinOp(stmt.target, stmt.op, stmt.value))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, self.value_of(item.context_expr), item.context_expr)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name):
            values = self.fold.fold(stmt.iter)
            if isinstance(values, (list, tuple)) and 0 < len(values) <= 8 and UNKNOWN not in values:
                for value in values:  # a loop over a few constants: each iteration's calls
                    self.env[stmt.target.id] = value
                    self.block(stmt.body, nest + 1)
                self.block(stmt.orelse, nest + 1)
                return
            self.env[stmt.target.id] = UNKNOWN
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in self.referenced:
            first = len(self.sink.events)
            self.block(stmt.body, nest + 1)
            why = f"in {stmt.name}(), which this code does not call"
            for i in range(first, len(self.sink.events)):
                event = self.sink.events[i]
                self.sink.events[i] = replace(event, reasons=event.reasons + (why,))  # type: ignore[arg-type]
            return
        for field in _STMT_LISTS:
            body = getattr(stmt, field, None)
            if isinstance(body, list):
                for item in body:
                    if isinstance(item, ast.ExceptHandler) or (hasattr(ast, "match_case") and isinstance(item, ast.match_case)):
                        self.block(item.body, nest + 1)
                    elif isinstance(item, ast.stmt):
                        self.block([item], nest + 1)

    def bind(self, target: ast.AST, value: Any, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            seq = value if isinstance(value, (list, tuple)) and len(value) == len(target.elts) else None
            for i, t in enumerate(target.elts):
                self.bind(t, seq[i] if seq is not None else UNKNOWN, node)
        elif isinstance(target, ast.Subscript) and self.fold.qual(target.value) == "os.environ":
            key = self.fold.fold(target.slice)
            if isinstance(key, str):
                text = as_text(value)
                self.emit(node).env(key, text, exported=True, scope="process",
                                    reasons=() if text is not None else ("value not known statically",))

    def value_of(self, node: ast.AST) -> Any:
        """A folded constant, a cloud handle, an open file, or UNKNOWN."""
        handle = self.handle(node)
        if handle is not None:
            return handle
        opened = self.opened(node)
        if opened is not None:
            return opened
        if isinstance(node, ast.Call):
            path = self.path_of(node)
            if path is not None:  # `p = Path('x').expanduser()`: later `p.write_text(...)`
                return _File(path, "r")
        return self.fold.fold(node)

    # ---- calls -------------------------------------------------------------------------------
    def calls(self, stmt: ast.stmt) -> None:
        """Every call in the statement's own expressions (nested bodies come as statements)."""
        roots: list[ast.AST] = []
        for field, value in ast.iter_fields(stmt):
            if field in _STMT_LISTS:
                continue
            if isinstance(value, ast.AST):
                roots.append(value)
            elif isinstance(value, list):
                roots.extend(v for v in value if isinstance(v, ast.AST) and not isinstance(v, ast.stmt))
        for root in roots:
            for node in _walk(root):
                if not self.sink.tick():
                    return
                if isinstance(node, ast.Call) and id(node) not in self.consumed:
                    self.call(node)

    def call(self, node: ast.Call) -> None:
        q = self.fold.qual(node.func) or ""
        mod, _, fn = q.rpartition(".")
        if not q and isinstance(node.func, ast.Attribute):
            fn = node.func.attr  # a method of a value: `open(p).write`, `Path(p).write_text`
        if (mod == "subprocess" and fn in _SUBPROCESS) or q in ("os.system", "os.popen", "commands.getoutput") \
                or q in ("asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"):
            shell = q in ("os.system", "os.popen", "commands.getoutput", "subprocess.getoutput",
                          "subprocess.getstatusoutput", "asyncio.create_subprocess_shell")
            shell = shell or self._kw_true(node, "shell")
            if q == "asyncio.create_subprocess_exec":
                self.process(node, [self.fold.fold(a) for a in node.args], False)
            else:
                arg = node.args[0] if node.args else self._kw(node, "args")
                self.process(node, self.fold.fold(arg) if arg is not None else UNKNOWN, shell)
        elif mod == "os" and (fn.startswith("exec") or fn.startswith("posix_spawn")):
            self.os_exec(node, fn)
        elif q == "pty.spawn" and node.args:
            value = self.fold.fold(node.args[0])
            self.process(node, value, False)
        elif q in ("exec", "eval", "compile") and node.args:
            self.nested_python(node, node.args[0])
        elif q.endswith(".connect") or q.endswith(".connect_ex") or fn in ("connect", "connect_ex"):
            self.connect_call(node)
        elif fn in ("bind", "sendto"):
            self.socket_addr(node, listen=fn == "bind", arg=node.args[-1] if node.args else None)
        elif q == "socket.create_connection" and node.args:
            self.socket_addr(node, listen=False, arg=node.args[0])
        elif q.startswith("http.client.HTTP") or fn in ("HTTPConnection", "HTTPSConnection"):
            self.host_port(node, "https" if "HTTPS" in q else "http", q or fn)
        elif q in ("ftplib.FTP", "ftplib.FTP_TLS", "smtplib.SMTP", "smtplib.SMTP_SSL",
                   "telnetlib.Telnet", "paramiko.Transport", "asyncio.open_connection"):
            self.host_port(node, {"ftplib": "ftp", "smtplib": "smtp", "telnetlib": "telnet",
                                  "paramiko": "ssh", "asyncio": "tcp"}[mod.split(".")[0]], q)
        elif fn in _HTTP_VERBS:
            self.http(node, fn, q)
        elif q in ("shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.move", "os.rename",
                   "os.replace") and len(node.args) >= 2:
            dst = as_text(self.fold.fold(node.args[1]))
            if dst:
                self.emit(node).write(dst, None, how="move" if fn in ("move", "rename", "replace") else "copy")
        elif q == "os.chmod" and len(node.args) >= 2:
            mode = self.fold.fold(node.args[1])
            path = as_text(self.fold.fold(node.args[0])) or "?"
            if isinstance(mode, int) and mode & 0o6000:
                self.emit(node).privilege("setuid", path)
        elif q in ("os.setuid", "os.seteuid", "os.setreuid", "os.setgid", "os.setresuid"):
            self.emit(node).privilege("setuid_call", ",".join(
                str(self.fold.fold(a)) for a in node.args))
        elif q in ("os.putenv",) and len(node.args) == 2:
            k, v = self.fold.fold(node.args[0]), as_text(self.fold.fold(node.args[1]))
            if isinstance(k, str):
                self.emit(node).env(k, v, exported=True, scope="process")
        elif q == "os.environ.update" and node.args and isinstance(node.args[0], ast.Dict):
            for k, v in zip(node.args[0].keys, node.args[0].values):
                key = self.fold.fold(k)
                if isinstance(key, str):
                    self.emit(node).env(key, as_text(self.fold.fold(v)), exported=True, scope="process")
        elif fn in ("write", "writelines", "write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
            self.file_write(node)
        elif fn in ("read_text", "read_bytes") and isinstance(node.func, ast.Attribute):
            target = self.path_of(node.func.value)
            if target:
                self.emit(node).read(target, "python")
        elif q in ("open", "io.open", "codecs.open"):
            opened = self.opened(node)
            if opened is not None and not _writes(opened.mode):
                self.emit(node).read(opened.path, "python")
        elif q == "kubernetes.stream.stream" and node.args:
            self.cloud(node, node.args[0], extra=node.args[1:])
        if isinstance(node.func, ast.Attribute):
            self.cloud(node, node.func)

    def _kw(self, node: ast.Call, name: str) -> ast.AST | None:
        return next((k.value for k in node.keywords if k.arg == name), None)

    def _kw_true(self, node: ast.Call, name: str) -> bool:
        v = self._kw(node, name)
        return v is not None and self.fold.fold(v) is True

    # ---- processes ---------------------------------------------------------------------------
    def process(self, node: ast.Call, value: Any, shell: bool) -> None:
        start, end = self.span(node)
        if isinstance(value, (bytes, bytearray)):
            value = as_text(value)
        if isinstance(value, str) and shell:
            self.nested_shell(node, value)
        elif isinstance(value, str):
            exec_words([Word(value, start, end)], self.frame, self.sink, span=(start, end),
                       launch="subprocess")
        elif isinstance(value, (list, tuple)) and value:
            words = [Word(t, start, end) if (t := as_text(v)) is not None
                     else Word("?", start, end, None, "argument not known statically") for v in value]
            if shell:
                self.nested_shell(node, " ".join(w.text for w in words))
            else:
                exec_words(words, self.frame, self.sink, span=(start, end), launch="subprocess")
        else:
            self.sink.add(Exec(self.frame.source(start, end), (), "?", "?", "subprocess", (),  # type: ignore[arg-type]
                               None, False, self.frame.depth, self.frame.parent,
                               ("command not known statically",)))

    def os_exec(self, node: ast.Call, fn: str) -> None:
        args = [self.fold.fold(a) for a in node.args]
        if not args:
            return
        if fn.startswith("posix_spawn"):
            argv = args[1] if len(args) > 1 else UNKNOWN
        elif "l" in fn[4:]:
            argv = args[1:] if "e" not in fn[4:] else args[1:-1]
        else:
            argv = args[1] if len(args) > 1 else UNKNOWN
        if isinstance(argv, (list, tuple)) and argv and isinstance(args[0], str):
            argv = [args[0]] + list(argv[1:])  # the program run is the path, not argv[0]
        self.process(node, argv, False)

    def nested_shell(self, node: ast.Call, command: str) -> None:
        from .shell import parse_into as parse_shell

        sub = self.frame.nested(launch="subprocess", span=self.span(node), inner_offset=None,
                                decoded_from="subprocess", parent=self.frame.parent)
        if sub.depth > self.sink.caps.max_depth:
            self.sink.note(f"depth cap {self.sink.caps.max_depth} reached")
            return
        if not parse_shell(command, sub, self.sink):
            start, end = self.span(node)
            self.sink.add(Exec(self.frame.source(start, end), (command,), "?", command, "subprocess",  # type: ignore[arg-type]
                               (), None, False, self.frame.depth + 1, self.frame.parent,
                               ("shell command did not parse",)))

    def nested_python(self, node: ast.Call, arg: ast.AST) -> None:
        code = as_text(self.fold.fold(arg))
        if code is None:
            if not isinstance(arg, ast.Name) or arg.id in self.env:
                self.sink.note("exec/eval of code not known statically")
            return
        sub = self.frame.nested(launch="eval", span=self.span(node), inner_offset=None,
                                decoded_from="eval", parent=self.frame.parent)
        if sub.depth > self.sink.caps.max_depth:
            self.sink.note(f"depth cap {self.sink.caps.max_depth} reached")
            return
        parse_into(code, sub, self.sink)

    # ---- network -----------------------------------------------------------------------------
    def connect_call(self, node: ast.Call) -> None:
        if not node.args and not node.keywords:
            return
        first = node.args[0] if node.args else self._kw(node, "hostname")
        value = self.fold.fold(first) if first is not None else UNKNOWN
        if isinstance(first, ast.Tuple) or isinstance(value, tuple):
            self.socket_addr(node, listen=False, arg=first)
        elif isinstance(value, str) and ("paramiko" in self.aliases.values()
                                         or any(v.startswith("paramiko") for v in self.aliases.values())):
            port = self.fold.fold(self._kw(node, "port")) if self._kw(node, "port") else 22
            self.emit(node).connect(value, port if isinstance(port, int) else None, "ssh", "paramiko")
        elif isinstance(value, str) and "://" in value:
            self.emit(node).url(value, "python")

    def socket_addr(self, node: ast.Call, *, listen: bool, arg: ast.AST | None) -> None:
        if arg is None:
            return
        value = self.fold.fold(arg)
        if not isinstance(value, (tuple, list)) or len(value) < 2:
            return
        host, port = value[0], value[1]
        reasons = []
        if not isinstance(host, str):
            reasons.append("host not known statically")
        if not isinstance(port, int):
            reasons.append("port not known statically")
        host_text = host if isinstance(host, str) else "?"
        if listen:
            host_text = host_text or "0.0.0.0"
        self.emit(node).connect(host_text, port if isinstance(port, int) else None,
                                "udp" if isinstance(node.func, ast.Attribute) and node.func.attr == "sendto" else "tcp",
                                "socket", listen=listen, reasons=tuple(reasons))

    def host_port(self, node: ast.Call, scheme: str, tool: str) -> None:
        first = node.args[0] if node.args else (self._kw(node, "host") or self._kw(node, "hostname"))
        value = self.fold.fold(first) if first is not None else UNKNOWN
        if isinstance(value, tuple) and len(value) == 2:
            value, port = value
        else:
            port = self.fold.fold(node.args[1]) if len(node.args) > 1 else (
                self.fold.fold(self._kw(node, "port")) if self._kw(node, "port") else None)
        if not isinstance(value, str):
            self.emit(node).connect("?", None, scheme, tool, reasons=("host not known statically",))
            return
        host, p = split_host_port(value)
        port = port if isinstance(port, int) else p
        if port is None:
            port = {"http": 80, "https": 443, "ftp": 21, "smtp": 25, "telnet": 23, "ssh": 22}.get(scheme)
        self.emit(node).connect(host, port, scheme, tool)

    def http(self, node: ast.Call, fn: str, q: str) -> None:
        candidates = list(node.args[:2]) + [k.value for k in node.keywords if k.arg in ("url", "base_url")]
        for arg in candidates:
            value = self.fold.fold(arg)
            if isinstance(value, ast.AST) or value is UNKNOWN:
                value = self._request_url(arg)
            if isinstance(arg, ast.Call):
                self.consumed.add(id(arg))  # urlopen(Request(url)): one connect, not two
            text = as_text(value) if value is not UNKNOWN else None
            if text and "://" in text and self.emit(node).url(text, q.split(".")[0] or "python"):
                return
        if q.split(".")[0] in _HTTP_LIBRARIES and (node.args or node.keywords):
            self.emit(node).connect("?", None, None, q.split(".")[0],
                                    reasons=("url not known statically",))

    def _request_url(self, arg: ast.AST) -> Any:
        if isinstance(arg, ast.Call) and arg.args and (self.fold.qual(arg.func) or "").endswith("Request"):
            return self.fold.fold(arg.args[0])
        return UNKNOWN

    # ---- files -------------------------------------------------------------------------------
    def opened(self, node: ast.AST) -> _File | None:
        if not isinstance(node, ast.Call):
            return None
        q = self.fold.qual(node.func)
        if q in ("open", "io.open", "codecs.open") and node.args:
            path = as_text(self.fold.fold(node.args[0]))
            mode_node = node.args[1] if len(node.args) > 1 else self._kw(node, "mode")
            mode = self.fold.fold(mode_node) if mode_node is not None else "r"
            if path is None:
                return None
            return _File(path, mode if isinstance(mode, str) else "?")
        return None

    def path_of(self, node: ast.AST) -> str | None:
        """The path of `Path('x')`, `pathlib.Path('x')` (also `.expanduser()`, `.resolve()`,
        `.absolute()` of one) or a name bound to one."""
        for _ in range(4):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
                    and node.func.attr in ("expanduser", "resolve", "absolute"):
                node = node.func.value
        if isinstance(node, ast.Call) and (self.fold.qual(node.func) or "").endswith("Path") and node.args:
            return as_text(self.fold.fold(node.args[0]))
        if isinstance(node, ast.Name) and isinstance(self.env.get(node.id), _File):
            return self.env[node.id].path
        return None

    def file_write(self, node: ast.Call) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        receiver = func.value
        target: _File | None = None
        if isinstance(receiver, ast.Name) and isinstance(self.env.get(receiver.id), _File):
            target = self.env[receiver.id]
        elif isinstance(receiver, ast.Call):
            target = self.opened(receiver)
            if target is not None:
                self.consumed.add(id(receiver))
        if func.attr in ("write_text", "write_bytes"):
            path = self.path_of(receiver)
            if path is not None:
                target = _File(path, "w")
        if target is None or not _writes(target.mode):
            return
        content_node = node.args[0] if node.args else None
        value = self.fold.fold(content_node) if content_node is not None else UNKNOWN
        if isinstance(value, (list, tuple)) and func.attr == "writelines":
            value = "".join(v for v in value if isinstance(v, str)) if all(isinstance(v, str) for v in value) else UNKNOWN
        content = as_text(value) if value is not UNKNOWN else None
        # a literal written to a document or fixture (informational.yaml, data_files) is data;
        # written anywhere else its span is still given (`content_spans`) for the flow stage
        spans: tuple[tuple[int, int], ...] = ()
        if content_node is not None and _plain_literal(content_node):
            spans = (self.span(content_node),)
            if is_data_file(target.path) and not persist_mechanism(target.path):
                self.sink.mark_data(self.frame, *spans[0])  # a document or a fixture
        self.emit(node).write(target.path, content, mode="append" if "a" in target.mode else "write",
                              how="python", reasons=() if content is not None else ("content not known statically",),
                              content_spans=spans)

    # ---- cloud -------------------------------------------------------------------------------
    def handle(self, node: ast.AST, depth: int = 0) -> _Handle | None:
        """The cloud client an expression denotes, if any (constructors, names, attribute paths)."""
        if depth > 12:
            return None
        if isinstance(node, ast.Name):
            value = self.env.get(node.id)
            return value if isinstance(value, _Handle) else None
        if isinstance(node, ast.Attribute):
            base = self.handle(node.value, depth + 1)
            return _Handle(base.provider, base.service, base.path + (node.attr,), base.mocked) if base else None
        if not isinstance(node, ast.Call):
            return None
        q = self.fold.qual(node.func) or ""
        first = as_text(self.fold.fold(node.args[0])) if node.args else None
        if first is None:
            kw = self._kw(node, "service_name")
            first = as_text(self.fold.fold(kw)) if kw is not None else None
        made = self._constructed(node, q, first)
        if made is not None:
            return replace(made, mocked=self._mocked(node, q, made.provider, made.service)) if self.mocks else made
        if isinstance(node.func, ast.Attribute):
            base = self.handle(node.func.value, depth + 1)
            if base is not None:
                return _Handle(base.provider, base.service, base.path + (node.func.attr,), base.mocked)
        return None

    def _constructed(self, node: ast.Call, q: str, first: str | None) -> _Handle | None:
        """The client a constructor call makes (`boto3.client('ec2')`, `compute_v1.InstancesClient()`)."""
        if q in ("boto3.Session", "boto3.session.Session"):
            return _Handle("aws", "")  # a session: its client()/resource() name the service
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("client", "resource") and first \
                and (q.startswith("boto3") or self._is_boto_session(node.func.value)):
            return _Handle("aws", first)
        if q in ("googleapiclient.discovery.build", "discovery.build", "build") and first \
                and any(v.startswith("googleapiclient") for v in self.aliases.values()):
            return _Handle("gcp", first)
        if q.startswith("google.cloud.") and q.endswith("Client"):
            service = q.split(".")[2].split("_")[0]
            return _Handle("gcp", service, (_resource_name(q.rpartition(".")[2]),))
        if q.startswith("azure.mgmt.") and q.endswith("Client"):
            return _Handle("azure", q.split(".")[2])
        if q.startswith("kubernetes.client") and q.rpartition(".")[2] in _K8S_APIS:
            return _Handle("kubernetes", q.rpartition(".")[2])
        return None

    def _is_boto_session(self, node: ast.AST) -> bool:
        session = self.handle(node)
        return session is not None and session.provider == "aws" and session.service == ""

    def cloud(self, node: ast.Call, func: ast.AST, extra: list[ast.AST] | None = None) -> None:
        if not isinstance(func, ast.Attribute) or id(node) in self.consumed:
            return
        base = self.handle(func.value)
        if base is None or base.service == "" or (self.handle(node) is not None
                                                  and func.attr in ("client", "resource")):
            return
        # inner calls of a chain (`compute.instances().insert(...).execute()`) are navigation
        inner = func.value
        while isinstance(inner, (ast.Call, ast.Attribute)):
            if isinstance(inner, ast.Call):
                self.consumed.add(id(inner))
                inner = inner.func
            else:
                inner = inner.value
        path = base.path + (func.attr,)
        if path[-1] == "execute" and len(path) > 1:
            path = path[:-1]
            if isinstance(func.value, ast.Call):
                node = func.value  # the parameters are those of the operation, not of execute()
        if base.mocked:  # a test's mock answers it: nothing reaches a cloud, and the call is no text evidence
            if self.frame.offset is not None and not self.sink.full:
                self.sink.mark_data(self.frame, *self.span(node))
            return
        params: list[tuple[str, str]] = []
        for k in node.keywords:
            if k.arg:
                params.append((k.arg, _param_text(self.fold.fold(k.value))))
        for i, a in enumerate(list(node.args) + list(extra or [])):
            if not isinstance(a, ast.Attribute):
                params.append((f"arg{i}", _param_text(self.fold.fold(a))))
        self.emit(node).cloud(base.provider, base.service, ".".join(path), tuple(params[:32]),
                              f"{base.provider}-sdk")


def _walk(root: ast.AST) -> Iterator[ast.AST]:
    """Pre-order walk (outer calls before inner), not into nested function or class bodies."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.stmt)]
        stack.extend(reversed(children))


def _plain_literal(node: ast.AST) -> bool:
    """A string literal, or an f-string with no call inside (nothing in it runs)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, bytes))
    return isinstance(node, ast.JoinedStr) and not any(isinstance(n, ast.Call) for n in ast.walk(node))


def _writes(mode: str) -> bool:
    return any(c in mode for c in "wax+")


def _resource_name(cls: str) -> str:
    base = cls[:-len("Client")] if cls.endswith("Client") else cls
    out = []
    for i, ch in enumerate(base):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _param_text(value: Any) -> str:
    if value is UNKNOWN:
        return "?"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_param_text(v) for v in value) + "]"
    text = as_text(value)
    return text if text is not None else repr(value)[:200]
