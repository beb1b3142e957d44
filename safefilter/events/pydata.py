"""Which text in Python source is data: comments, docstrings, and string literals that reach no sink.

A literal is data when where it goes is known and harmless: printed or logged, asserted or
compared, compiled as a regex, handed to a `str` method that answers a question (`startswith`),
put in a `pytest.mark.parametrize` list, or bound to a name whose every use is one of those. A
literal passed to anything else (a sink, a user function, an import, a `return`) is not data:
when unsure, not data. Text rules skip data spans, so a miner command line in a test's print or
a tunnel example in a docstring stops matching, while the same words in `os.system` still do.
"""
from __future__ import annotations

import ast
import bisect
from typing import Any, Callable

__all__ = ["Index", "data_spans"]

# callees whose string arguments are shown, logged, compared or used as a pattern: nothing runs
_DATA_CALLS = frozenset((
    "len", "isinstance", "hasattr", "bool", "hash", "id",
    "warnings.warn", "re.compile", "re.match", "re.search", "re.fullmatch", "re.findall",
    "re.finditer", "re.split", "sys.stderr.write", "pytest.mark.parametrize", "pytest.raises",
    "pytest.skip", "pytest.fail", "pytest.param", "pytest.warns", "pytest.mark.skip",
    "pytest.mark.skipif", "pytest.mark.xfail",
))
# callees that print to stdout: data only while that stdout is shown (`python -c 'print(x)' | sh`
# runs it, `$(python -c ...)` captures it)
_PRINT_CALLS = frozenset(("print", "pprint.pprint", "pprint", "sys.stdout.write", "click.echo",
                          "click.secho", "typer.echo", "rich.print"))
_LOG_METHODS = frozenset(("debug", "info", "warning", "warn", "error", "exception", "critical",
                          "log", "fatal"))
_ASSERT_PREFIX = ("assert",)  # unittest: self.assertEqual, assertIn, assertRaisesRegex, ...
# methods and functions that turn text into text: the literal goes where the result goes
_TRANSFORMS = frozenset((
    "join", "format", "format_map", "replace", "strip", "lstrip", "rstrip", "lower", "upper",
    "casefold", "title", "capitalize", "center", "ljust", "rjust", "zfill", "split", "rsplit",
    "splitlines", "partition", "rpartition", "removeprefix", "removesuffix", "encode", "decode",
    "expandtabs", "translate", "str", "bytes", "repr", "textwrap.dedent", "textwrap.indent",
    "json.dumps", "json.loads", "re.sub", "re.subn", "re.escape",
    # decoders: the decoded text goes where the result goes (`print(b64decode('...'))` is data,
    # `os.system(b64decode('...'))` is not)
    "base64.b64decode", "base64.b32decode", "base64.b16decode", "base64.a85decode",
    "base64.urlsafe_b64decode", "binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex",
    "codecs.decode", "zlib.decompress", "gzip.decompress",
))
# methods whose result is a bool or a number: the literal stops there
_PREDICATES = frozenset(("startswith", "endswith", "count", "find", "rfind", "index", "rindex",
                         "__contains__", "__eq__"))
_MAX_CLIMB = 16


class Index:
    """One walk over the tree: parents, string literals, names read and bound, attributes, and
    the names the code references (used by the event walker to skip functions nobody calls)."""

    __slots__ = ("parents", "strings", "loads", "attrs", "defined", "referenced", "complete")

    def __init__(self, tree: ast.AST, tick: Callable[[], bool]) -> None:
        parents: dict[int, ast.AST] = {}
        strings: list[ast.AST] = []
        loads: dict[str, list[ast.Name]] = {}
        attrs: set[str] = set()
        defined: set[str] = set()
        decorated: set[str] = set()
        stack: list[ast.AST] = [tree]
        complete = True
        AST, Name, Constant, JoinedStr, Attribute, Load = (ast.AST, ast.Name, ast.Constant,
                                                            ast.JoinedStr, ast.Attribute, ast.Load)
        while stack:
            if not tick():
                complete = False
                break
            node = stack.pop()
            for field in node._fields:
                value = getattr(node, field, None)
                if isinstance(value, AST):
                    parents[id(value)] = node
                    stack.append(value)
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, AST):
                            parents[id(item)] = node
                            stack.append(item)
            cls = type(node)
            if cls is Name:
                if type(node.ctx) is Load:
                    loads.setdefault(node.id, []).append(node)
                else:
                    defined.add(node.id)
            elif cls is Attribute:
                attrs.add(node.attr)
            elif cls is JoinedStr or (cls is Constant and isinstance(node.value, (str, bytes))):
                strings.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
                if node.decorator_list and not isinstance(node, ast.ClassDef):
                    decorated.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                defined.update((a.asname or a.name).split(".")[0] for a in node.names
                               if isinstance(node, ast.ImportFrom) or a.asname)
        self.parents, self.strings, self.loads, self.attrs = parents, strings, loads, attrs
        self.defined, self.complete = defined, complete
        self.referenced = frozenset(loads) | attrs | decorated


def data_spans(index: Index, text: str, span: Callable[[ast.AST], tuple[int, int]],
               qual: Callable[[ast.AST], str | None], *, shown: bool = True) -> list[tuple[int, int]]:
    """Local character spans of comments and data literals in `text` (none when the index is
    incomplete: the text path stays as it is). `shown`: the code's stdout is shown, not run,
    captured or written to a file (so what it prints is data)."""
    if not index.complete:
        return []
    parents = index.parents
    judge = _Judge(parents, index.loads, index.attrs, index.defined, qual)
    judge.shown = shown
    out: list[tuple[int, int]] = []
    literal_spans: list[tuple[int, int]] = []
    for node in index.strings:
        parent = parents.get(id(node))
        if isinstance(parent, (ast.JoinedStr, ast.FormattedValue)) and isinstance(node, ast.Constant):
            continue  # a piece of an f-string: judged with the whole f-string
        s, e = span(node)
        literal_spans.append((s, e))
        if isinstance(node, ast.JoinedStr) and any(isinstance(n, ast.Call) for n in ast.walk(node)):
            continue  # `f"{os.system('x')}"`: something inside runs
        if judge.data(node, 0):
            out.append((s, e))
    if "#" in text:
        out.extend(_comments(text, literal_spans))
    return out


def _comments(text: str, literals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`#` to end of line, for every `#` outside a string literal."""
    literals.sort()
    starts = [s for s, _ in literals]
    out: list[tuple[int, int]] = []
    i = text.find("#")
    while i >= 0:
        k = bisect.bisect_right(starts, i) - 1
        if k >= 0 and literals[k][0] <= i < literals[k][1]:
            i = text.find("#", literals[k][1])
            continue
        end = text.find("\n", i)
        end = len(text) if end < 0 else end
        out.append((i, end))
        i = text.find("#", end)
    return out


class _Judge:
    """Decides, by climbing from a literal to where its value goes, whether it reaches no sink."""

    def __init__(self, parents: dict[int, ast.AST], loads: dict[str, list[ast.Name]],
                 attrs: set[str], defined: set[str], qual: Callable[[ast.AST], str | None]) -> None:
        self.parents, self.loads, self.attrs, self.qual = parents, loads, attrs, qual
        self.defined = defined  # names this code binds itself: `def print(x): os.system(x)`
        self.shown = True
        self.names: dict[str, bool] = {}

    def data(self, node: ast.AST, depth: int) -> bool:
        if depth > _MAX_CLIMB:
            return False
        p = self.parents.get(id(node))
        if p is None:
            return False
        if isinstance(p, ast.Expr):
            return True  # docstring, bare string, or a discarded value
        if isinstance(p, ast.Assert):
            return True
        if isinstance(p, ast.Compare):
            return True  # the result is a bool
        if isinstance(p, (ast.JoinedStr, ast.FormattedValue, ast.List, ast.Tuple, ast.Set,
                          ast.Dict, ast.BoolOp, ast.Starred)):
            return self.data(p, depth + 1)
        if isinstance(p, ast.IfExp):
            return node is not p.test and self.data(p, depth + 1)
        if isinstance(p, ast.BinOp) and isinstance(p.op, (ast.Add, ast.Mod, ast.Mult)):
            return self.data(p, depth + 1)
        if isinstance(p, ast.keyword):
            call = self.parents.get(id(p))
            return isinstance(call, ast.Call) and self.argument(call, depth)
        if isinstance(p, ast.Call):
            return node is not p.func and self.argument(p, depth)
        if isinstance(p, ast.Attribute) and p.value is node:
            call = self.parents.get(id(p))
            if isinstance(call, ast.Call) and call.func is p:
                if p.attr in _PREDICATES:
                    return True
                if p.attr in _TRANSFORMS:
                    return self.data(call, depth + 1)
            return False
        if isinstance(p, ast.Subscript) and p.value is node:
            return self.data(p, depth + 1)  # `'...'[::-1]`, `s[3:]`: text from the text
        if isinstance(p, (ast.Assign, ast.AnnAssign)) and p.value is node:
            targets = p.targets if isinstance(p, ast.Assign) else [p.target]
            return all(isinstance(t, ast.Name) and self.name(t.id, depth) for t in targets)
        return False

    def argument(self, call: ast.Call, depth: int) -> bool:
        """A value passed to `call`: data if the callee only shows, compares or matches it."""
        if isinstance(call.func, ast.Name) and call.func.id in self.defined:
            return False  # a function of this code (or an imported one): its effect is unknown
        q = self.qual(call.func) or ""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        last = q.rpartition(".")[2] or method
        if q in _DATA_CALLS or method in ("parametrize",) and q.endswith("parametrize"):
            return True
        if q in _PRINT_CALLS:
            return self.shown
        if method in _LOG_METHODS and isinstance(call.func, ast.Attribute) and \
                "log" in (self.qual(call.func.value) or _name_of(call.func.value)).lower():
            return True
        if last.startswith(_ASSERT_PREFIX) and isinstance(call.func, ast.Attribute):
            return True
        if last.endswith(("Error", "Exception", "Warning")) and last[:1].isupper():
            return True  # an exception's message
        if method in _PREDICATES:
            return True
        if q in _TRANSFORMS or method in _TRANSFORMS:
            return self.data(call, depth + 1)
        return False

    def name(self, name: str, depth: int) -> bool:
        """True when every use of `name` is a data context (and it is not read as an attribute)."""
        known = self.names.get(name)
        if known is not None:
            return known
        self.names[name] = False  # a cycle (`a = a + 'x'`) is not data
        ok = name not in self.attrs and all(self.data(use, depth + 1) for use in self.loads.get(name, ()))
        self.names[name] = ok
        return ok


def _name_of(node: Any) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


# --- mocked clients in tests ----------------------------------------------------------------------
# `mock.patch('boto3.client')` replaces the named object while the test runs; moto's `mock_aws`
# (`mock_ec2`, `mock_iam`, ... in older moto) answers every AWS call in-process. Patches that let
# the real object through (`wraps=`) or swap in something unknown (`new=`, `side_effect=`) excuse
# nothing.
_PATCHERS = frozenset(("unittest.mock.patch", "mock.patch"))
_PASS_THROUGH = frozenset(("wraps", "new", "side_effect", "new_callable"))
MOTO = "moto:"  # a moto target: "moto:" every AWS service, "moto:ec2" one


def mock_targets(stmt: ast.AST, qual: Callable[[ast.AST], str | None]) -> tuple[str, ...]:
    """What a test's mocks replace while `stmt`'s body runs: the decorators of a function or the
    items of a `with`, as dotted names (`boto3.client`) or moto targets (`moto:`, `moto:ec2`).

    Why: SDK calls inside a mocked test reach no cloud (LABELING.md §1: nothing happens), but only
    calls that resolve through the patched object; a patch of something else excuses nothing.
    """
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        exprs = list(stmt.decorator_list)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        exprs = [item.context_expr for item in stmt.items]
    else:
        return ()
    out: list[str] = []
    for expr in exprs:
        call = expr if isinstance(expr, ast.Call) else None
        q = qual(call.func if call is not None else expr) or ""
        if q.startswith("moto.mock_") and not (call is not None and (call.args or call.keywords)):
            service = q[len("moto.mock_"):]
            out.append(MOTO + ("" if service == "aws" else service))
        elif call is not None and q in _PATCHERS and len(call.args) == 1 \
                and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str) \
                and not any(k.arg in _PASS_THROUGH or k.arg is None for k in call.keywords):
            out.append(call.args[0].value)
    return tuple(out)


def mock_covers(targets: tuple[str, ...], bound_inside: bool, *, qual: str, root_module: str,
                provider: str, service: str) -> bool:
    """A client made by the constructor `qual` (its first name bound to `root_module`) is mocked.

    A patch of `T` reaches the call when the lookup passes through `T` at call time (`boto3.client`
    patched, `boto3.client(...)` called) or when the name was imported while the patch was active
    (`from kubernetes import client` inside the test); a module-level `from x import y` keeps the
    real object.
    """
    for target in targets:
        if target.startswith(MOTO):
            if provider == "aws" and target[len(MOTO):] in ("", service):
                return True
        elif qual == target or qual.startswith(target + "."):
            if target.startswith(root_module + ".") or bound_inside:
                return True
    return False
