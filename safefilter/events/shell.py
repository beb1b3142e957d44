"""Shell text to events, over the tree-sitter-bash grammar (MIT; see docs/events.md).

A small static evaluator walks the syntax tree the way bash would run it, without running
anything: lists, pipelines, subshells, command and process substitution, heredocs and here
strings, redirections (`> f` is a `file_write`, `/dev/tcp/h/p` a `connect`), variables and arrays
with constant propagation, parameter operators (`${v,,}`, `${v//a/b}`, `${v%p}`, `${v:1:2}`,
`${!v}`), positional parameters (none for a tool call's command, so `$9` is empty; `sh -c CODE a
b` and function calls set them), `${IFS}` word splitting, brace expansion, quoting and escapes
(`$'\\x..'` too), loops over constant lists, functions, `eval` and `source` in the same shell,
exported variables into child shells, `source <(...)`, and the static output of
`echo`/`printf`/`base64 -d`/`rev`/`xxd -r -p`/`tr`/`which` so `echo ... | base64 -d | sh` is
seen through. Values that cannot be known statically stay as written and the event lists why.

Text with syntax errors yields no events and a reason (the caller keeps its text path); two
recoveries are accepted: a bare brace expansion as the command word (`{nm,ap} -p 1 h`), which
the grammar reports as ERROR, and the `<>` redirection operator it does not know.
"""
from __future__ import annotations

from typing import Any

from .argv import PYTHONS, SHELLS, Word, exec_words, join_words
from .shellstrings import ansi_c, arith, brace_expand, param_op, static_output, unescape
from .context import Frame, Sink
from .emit import Emit
from .informational import (is_data_file, is_no_op, is_text_filter, stdin_is_text,
                            text_argument_indices, text_programs)
from .model import Exec, FileWrite
from .paths import persist_mechanism

__all__ = ["parse_into", "syntax_error", "SCRIPT_FIELD", "TOP_ARGS"]

#: The field of a text the data flow runs as a file (`bash x.sh a b`): its positional
#: parameters are not known. Every other top-level text is a tool call's command, run as
#: `bash -c CMD` with none (`$1`..`$9` empty, `$#` 0), which `TOP_ARGS` says.
SCRIPT_FIELD = "<script>"
TOP_ARGS: tuple[str, ...] = ("bash",)

_PARSER: Any = None
_ENV_SYMBOLIC = frozenset(("HOME", "USER", "PWD", "PATH", "TMPDIR", "SHELL", "HOSTNAME",
                           "LOGNAME", "OLDPWD", "UID", "EUID", "LANG", "TERM"))
_STATEMENT_TYPES = frozenset(("command", "pipeline", "list", "redirected_statement",
                              "variable_assignment", "subshell", "compound_statement",
                              "command_name"))
_NULL_TARGETS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/", "/dev/tty")
_SHOWN_TARGETS = ("/dev/stdout", "/dev/fd/1")  # a redirect there still feeds the pipeline
_STAGE_WRAPPERS = frozenset(("sudo", "doas", "nohup", "stdbuf", "command", "env", "nice", "time"))
_RUNS_TEXT = ("$(", "`", "<(", ">(")
_TEXT_PROGRAMS = text_programs()


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_bash.language()))
    return _PARSER


def syntax_error(root: Any, sink: Sink) -> str | None:
    """Why the tree is not a parse we accept, or None (see the module docstring)."""
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        if not sink.tick():
            return "node cap reached while checking syntax"
        node = stack.pop()
        if node.is_missing:
            return f"syntax error: missing {node.type!r} at byte {node.start_byte}"
        if node.type == "ERROR":
            text = node.text or b""
            parent = node.parent
            if node.named_child_count == 0 and (text.strip() in (b"<>", b"") or (
                    text in (b">", b"<") and parent is not None and parent.type == "file_redirect")):
                continue
            if text.startswith(b"{") and b"," in text.split(b"}", 1)[0] and all(
                    c.type in _STATEMENT_TYPES for c in node.named_children):
                continue
            return f"syntax error at byte {node.start_byte}"
        if node.has_error:
            stack.extend(node.children)
    return None


def parse_into(text: str, frame: Frame, sink: Sink, *, wrappers: tuple[str, ...] = (),
               args: tuple[str, ...] | None = TOP_ARGS, env: dict[str, Any] | None = None,
               shared: "_Walker | None" = None) -> bool:
    """Parse `text` as bash and add its events to `sink`; False (and a reason) if it does not
    parse or is over the size cap. `args`: the positional parameters, `$0` first (None: not
    known); `env`: variables the shell starts with (a parent's exported ones); `shared`: the
    walker of the shell this text runs in (`eval`, `source`), whose variables and functions it
    reads and changes."""
    if len(text) > sink.caps.max_text:
        sink.note(f"text longer than {sink.caps.max_text} characters is not parsed")
        return False
    # tree-sitter-bash 0.25 can read out of bounds (SIGSEGV, the whole process) on a `{` followed
    # later by a 4-byte UTF-8 character (upstream issue tree-sitter-bash#337). The parser never
    # sees one: each character above U+FFFF is replaced by U+FFFD, which keeps every character
    # offset; values are read from the original text.
    safe = text if text.isascii() else "".join(c if c < "\U00010000" else "\ufffd" for c in text)
    data = safe.encode("utf-8", "surrogatepass")
    tree = _parser().parse(data)
    reason = syntax_error(tree.root_node, sink)
    if reason and safe[-1:].isspace() and safe.rstrip():
        # `{ssh,-R,...}` then a newline (printed code piped to a shell): the grammar takes the
        # bare brace word for an unclosed group unless the text ends at it; the end's blanks
        # run nothing, and the kept characters keep their offsets
        tree = _parser().parse(safe.rstrip().encode("utf-8", "surrogatepass"))
        reason = syntax_error(tree.root_node, sink)
    if reason:
        sink.note(reason)
        return False
    if frame.depth == 0 and frame.origin.field == SCRIPT_FIELD:
        args = None
    walker = _Walker(text, safe, frame, sink, wrappers)
    if shared is not None:
        walker.vars, walker.functions, walker.exported = shared.vars, shared.functions, shared.exported
        walker.args, walker.fd_texts = shared.args, shared.fd_texts
    else:
        walker.args = args
        if env:
            walker.vars.update(env)
            walker.exported.update(env)
    walker.block(tree.root_node, 0)
    return True


class _Walker:
    """Evaluates one text's tree; variables live in `vars` (str, list for arrays, None unknown)."""

    def __init__(self, text: str, parsed: str, frame: Frame, sink: Sink,
                 wrappers: tuple[str, ...]) -> None:
        self.text, self.frame, self.sink = text, frame, sink
        self.wrappers = wrappers
        self.vars: dict[str, Any] = {}
        self.functions: dict[str, Any] = {}
        self.exported: set[str] = set()
        self.args: tuple[str, ...] | None = TOP_ARGS  # positional parameters, $0 first
        self.fd_texts: dict[str, str] = {}  # `<(...)` paths -> what the substitution prints
        self.b2c: list[int] | None = None if parsed.isascii() else _byte_to_char(parsed)
        self.calls = 0
        # data spans (local) of the text on the next command's stdin, and of the last one's stdout
        self.in_spans: list[tuple[int, int]] = []
        self.out_spans: list[tuple[int, int]] = []
        self.heredoc_at: tuple[str, int] | None = None  # (heredoc text, local start) when verbatim

    # ---- positions -------------------------------------------------------------------------
    def pos(self, byte: int) -> int:
        return byte if self.b2c is None else self.b2c[min(byte, len(self.b2c) - 1)]

    def span(self, node: Any) -> tuple[int, int]:
        return self.pos(node.start_byte), self.pos(node.end_byte)

    def src(self, node: Any) -> str:
        return self.slice(node.start_byte, node.end_byte)

    def slice(self, start_byte: int, end_byte: int) -> str:
        """The original characters between two byte offsets of the parsed text."""
        return self.text[self.pos(start_byte):self.pos(end_byte)]

    def limit(self, value: str) -> str:
        return value[: self.sink.caps.max_value]

    # ---- statements ------------------------------------------------------------------------
    def block(self, node: Any, nest: int) -> None:
        for child in node.named_children:
            self.statement(child, nest + 1, background=_followed_by_amp(child))

    def statement(self, node: Any, nest: int, *, stdin: str | None = None,
                  background: bool = False, piped: bool = False) -> str | None:
        """Walk one statement; returns its static stdout when known."""
        if not self.sink.tick() or nest > self.sink.caps.max_nesting:
            if nest > self.sink.caps.max_nesting:
                self.sink.note("nesting cap reached")
            return None
        t = node.type
        if t == "command":
            return self.command(node, nest, stdin=stdin, redirects=(), background=background,
                                piped=piped)
        if t == "redirected_statement":
            return self.redirected(node, nest, stdin, background)
        if t == "pipeline":
            return self.pipeline(node, nest, stdin, background, piped, ())
        if t == "list":
            outs = [self.statement(child, nest + 1, background=background or _followed_by_amp(child))
                    for child in node.named_children]
            return _concat(outs)
        if t == "ERROR" and (node.text or b"").startswith(b"{"):
            return self.brace_command(node, nest, stdin)
        if t in ("program", "compound_statement", "subshell", "do_group", "ERROR",
                 "else_clause", "elif_clause", "case_item"):
            outs = []
            for child in node.named_children:
                if child.type in ("comment", "heredoc_body"):
                    if child.type == "comment":
                        self.mark(child)
                    continue
                if t == "case_item" and child == node.child_by_field_name("value"):
                    continue
                outs.append(self.statement(child, nest + 1, stdin=stdin,
                                           background=_followed_by_amp(child)))
            return _concat(outs)
        if t == "variable_assignment":
            self.assign(node, nest, exported=False)
        elif t == "variable_assignments":
            for child in node.named_children:
                self.assign(child, nest, exported=False)
        elif t == "declaration_command":
            self.declaration(node, nest)
        elif t == "negated_command":
            for child in node.named_children:
                self.statement(child, nest + 1)
        elif t in ("if_statement", "while_statement", "until_statement"):
            for child in node.named_children:
                self.statement(child, nest + 1)
        elif t == "case_statement":
            for child in node.named_children:
                if child.type == "case_item":
                    self.statement(child, nest + 1)
        elif t == "for_statement":
            self.for_loop(node, nest)
        elif t == "c_style_for_statement":
            body = node.child_by_field_name("body")
            if body is not None:
                self.statement(body, nest + 1)
        elif t == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.functions[self.src(name)] = body
        elif t in ("test_command", "unset_command"):
            for child in node.named_children:
                self.words(child, nest)  # substitutions inside still run
        elif t == "comment":
            self.mark(node)
        else:
            for child in node.named_children:
                if child.type in ("command_substitution", "process_substitution"):
                    self.words(child, nest)
        return None

    def pipeline(self, node: Any, nest: int, stdin: str | None, background: bool, piped: bool,
                 last_redirects: Any) -> str | None:
        """Stages left to right, each one's stdout the next one's stdin; `last_redirects` are
        redirects the grammar hung on the whole pipeline (`a | b > f`), bash's for the last."""
        out = stdin
        outer = self.sink.text_out
        stages = node.named_children
        # tail[i]: every stage after i is a text filter (read from the end, stopping early)
        tail = [False] * len(stages)
        if outer:
            tail[-1] = True
            for i in range(len(stages) - 2, -1, -1):
                if not _stage_is_filter(self, stages[i + 1]):
                    break
                tail[i] = True
        spans = self.in_spans
        for i, child in enumerate(stages):
            self.sink.text_out = tail[i]
            self.in_spans, self.out_spans = (spans if i == 0 else self.out_spans), []
            if last_redirects and i == len(stages) - 1:
                out = self.command(child, nest, stdin=out, redirects=last_redirects,
                                   background=background, piped=True)
            else:
                out = self.statement(child, nest + 1, stdin=out, background=background,
                                     piped=piped or i > 0)
        self.sink.text_out = outer
        return out

    def for_loop(self, node: Any, nest: int) -> None:
        var = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        values: list[Word] = []
        for child in node.children_by_field_name("value"):
            values.extend(self.words(child, nest))
        if var is None or body is None:
            return
        name = self.src(var)
        resolved = values and all(v.reason is None for v in values)
        if resolved and len(values) <= 8:
            for v in values:
                self.vars[name] = v.text
                self.statement(body, nest + 1)
        else:
            self.vars[name] = None
            self.statement(body, nest + 1)

    def redirected(self, node: Any, nest: int, stdin: str | None, background: bool) -> str | None:
        body = node.child_by_field_name("body")
        redirects: list[Any] = []
        after: list[Any] = []  # `cat <<EOF | sh` and `cat <<EOF && x`: the rest hangs off the heredoc
        heredoc = None
        in_spans = self.in_spans  # from the pipeline stage before, unless a heredoc replaces it
        for r in node.named_children:
            if r is body:
                continue
            redirects.append(r)
            if r.type == "heredoc_redirect":
                heredoc = stdin = self.heredoc(r, nest)
                for sub in r.named_children:
                    if sub.type == "file_redirect":
                        redirects.append(sub)
                    elif sub.type == "heredoc_body":
                        # an unquoted body expands `$(...)`: that part runs, so it is not data
                        quoted = any(c.type == "heredoc_start" and any(q in self.src(c) for q in "'\"\\")
                                     for c in r.children)
                        raw = self.src(sub)
                        in_spans = [self.span(sub)] if quoted or not any(x in raw for x in _RUNS_TEXT) else []
                    elif sub.type not in ("heredoc_start", "heredoc_end"):
                        after.append(sub)
            elif r.type == "herestring_redirect":
                vals = [w.text for c in r.named_children for w in self.words(c, nest)]
                stdin = " ".join(vals) + "\n"
                in_spans = [self.span(c) for c in r.named_children
                            if not any(x in self.src(c) for x in _RUNS_TEXT)]
        if body is None:
            return None
        outer = self.sink.text_out
        for sub in after:  # `cat <<EOF | sh`: the body's stdout feeds that pipeline
            if sub.type == "pipeline":
                self.sink.text_out = outer and all(_stage_is_filter(self, c) for c in sub.named_children)
            elif sub.type in ("command", "redirected_statement") and _piped_after(sub):
                self.sink.text_out = outer and _stage_is_filter(self, sub)
        self.in_spans = in_spans
        direct = body is not None and body.type == "command"
        while body.type == "list" and body.named_children and body.named_children[-1].type == "command":
            # `cd x && cat > f <<EOF`: the grammar hangs the redirects on the list; bash binds
            # them to its last command
            for child in body.named_children[:-1]:
                self.statement(child, nest + 1, background=_followed_by_amp(child))
            body = body.named_children[-1]
            self.in_spans = in_spans
        if body.type == "command":
            out = self.command(body, nest, stdin=stdin, redirects=redirects, background=background,
                               outer=node if direct else None)
        elif body.type == "pipeline" and body.named_children and \
                body.named_children[-1].type == "command" and not after:
            out = self.pipeline(body, nest + 1, stdin, background, False, redirects)
        else:
            self.in_spans = []  # a loop or group reading the heredoc: who reads it is not static
            if _stdout_target(self, redirects) is not None:
                self.sink.text_out = False  # `{ echo a; echo b; } > run.sh`: the output is content
            out = self.statement(body, nest + 1, stdin=stdin, background=background)
            self.apply_redirects(redirects, node, out, nest, parent=None, heredoc=heredoc)
        self.sink.text_out = outer
        self.heredoc_at = None
        for sub in after:
            self.in_spans, self.out_spans = (self.out_spans if sub.type == "pipeline" else []), []
            out = self.statement(sub, nest + 1, stdin=out if sub.type == "pipeline" else None)
        return out

    def heredoc(self, node: Any, nest: int) -> str:
        quoted = False
        for c in node.children:
            if c.type == "heredoc_start":
                raw = self.src(c)
                quoted = any(q in raw for q in "'\"\\")
        body = next((c for c in node.named_children if c.type == "heredoc_body"), None)
        if body is None:
            return ""
        if quoted or all(c.type == "heredoc_content" for c in body.named_children):
            text = self.src(body)
            self.heredoc_at = (text, self.pos(body.start_byte))  # verbatim: nested code maps back
            return text
        parts: list[str] = []
        cursor = body.start_byte
        for child in body.named_children:
            if child.type == "heredoc_content":
                continue
            parts.append(self.slice(cursor, child.start_byte))
            ws = self.words(child, nest, quoted=True)
            parts.append("".join(w.text for w in ws))
            cursor = child.end_byte
        parts.append(self.slice(cursor, body.end_byte))
        return self.limit("".join(parts))

    # ---- commands ----------------------------------------------------------------------------
    def command(self, node: Any, nest: int, *, stdin: str | None, redirects: Any,
                background: bool, outer: Any = None, piped: bool = False) -> str | None:
        words: list[Word] = []
        prefix_env: list[tuple[str, Word]] = []
        inline_redirects = []
        glue: list[Any] = []  # argument nodes bash reads as one word (see `glued`)
        for child in node.named_children:
            t = child.type
            if glue:
                if t not in ("variable_assignment", "file_redirect", "heredoc_redirect",
                             "herestring_redirect", "comment") and child.start_byte == glue[-1].end_byte:
                    glue.append(child)
                    continue
                words.extend(self.glued(glue, nest))
                glue = []
            if t in ("concatenation", "command_name") and self.text[self.pos(child.end_byte) - 1] == "$":
                after = child.next_sibling
                if after is not None and after.start_byte == child.end_byte and after.is_named:
                    glue = [child]
                    continue
            if t == "variable_assignment":
                name_node = child.child_by_field_name("name")
                value_node = child.child_by_field_name("value")
                vals = self.words(value_node, nest, quoted=True) if value_node is not None else []
                if name_node is not None:
                    prefix_env.append((self.src(name_node), vals[0] if vals else Word("", 0, 0)))
            elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                inline_redirects.append(child)
            elif t == "command_name":
                words.extend(self.words(child.named_children[0] if child.named_children else child, nest))
            elif t == "comment":
                self.mark(child)
                continue
            else:
                words.extend(self.words(child, nest))
        if glue:
            words.extend(self.glued(glue, nest))
        for r in inline_redirects:
            if r.type == "herestring_redirect":
                stdin = " ".join(w.text for c in r.named_children for w in self.words(c, nest)) + "\n"
                self.in_spans = [self.span(c) for c in r.named_children
                                 if not any(x in self.src(c) for x in _RUNS_TEXT)]
        return self.run(words, node if outer is None else outer, nest, stdin=stdin,
                        redirects=list(redirects) + inline_redirects, background=background,
                        prefix_env=prefix_env, piped=piped)

    def run(self, words: list[Word], node: Any, nest: int, *, stdin: str | None, redirects: Any,
            background: bool, prefix_env: list[tuple[str, Word]], piped: bool = False) -> str | None:
        """Run one simple command's words: functions, eval, trap, else an exec and its effects."""
        all_redirects = redirects
        span = self.span(node)
        in_spans, self.in_spans, self.out_spans = self.in_spans, [], []
        heredoc_at = self.heredoc_at if self.heredoc_at and stdin is self.heredoc_at[0] else None
        em = Emit(self.frame, self.sink, span[0], span[1], self.frame.parent)
        for name, value in prefix_env:
            em.env(name, value.text, exported=True, scope="command",
                   reasons=(value.reason,) if value.reason else ())
        if not words:
            self.apply_redirects(all_redirects, node, None, nest, parent=None, heredoc=stdin)
            return None
        head = words[0].text
        if head in self.functions and self.calls < 16:
            self.calls += 1
            shown = self.sink.text_out
            if _stdout_target(self, redirects) is not None:
                self.sink.text_out = False  # `f > run.sh`: what f prints becomes the file
            saved_args = self.args
            self.args = (self.args[0] if self.args else "bash",) + tuple(w.text for w in words[1:]) \
                if not any(w.reason for w in words[1:]) else None
            self.statement(self.functions[head], nest + 1)
            self.args = saved_args
            self.sink.text_out = shown
            return None
        if head == "eval":
            index = self.sink.add(Exec(self.frame.source(*span), tuple(w.text for w in words),
                                       "eval", "eval", self.frame.launch, self.wrappers, None,  # type: ignore[arg-type]
                                       background, self.frame.depth, self.frame.parent))
            if len(words) > 1:
                self.nested(words[1] if len(words) == 2 else join_words(words[1:]), span, "eval", index,
                            same_shell=True)
            return None
        if head == "trap" and len(words) >= 3:
            self.nested(words[1], span, "eval", None)
            return None
        first = len(self.sink.events)
        shown = self.sink.text_out
        redirected = bool(all_redirects) and _stdout_target(self, all_redirects) is not None
        if redirected:
            self.sink.text_out = False  # `bash -c 'echo x' > f`: nested output is the file's
        index = exec_words(words, self.frame, self.sink, span=span, background=background,
                           stdin=stdin, wrappers=self.wrappers, piped=piped,
                           stdin_inner=heredoc_at[1] if heredoc_at else None,
                           env=self.child_env(prefix_env) if self.exported or prefix_env else None)
        if self.fd_texts and index is not None:
            self.run_substituted(index, span)
        self.sink.text_out = shown
        out = static_output(words, stdin)
        content = self.data_of(words, index, span, in_spans, all_redirects)
        if content:
            for i in range(first, len(self.sink.events)):  # `tee f <<EOF`: the file holds it
                ev = self.sink.events[i]
                if isinstance(ev, FileWrite) and ev.how == "tee" and ev.parent == index:
                    self.sink.events[i] = _with_content(ev, self.frame, content)
        self.apply_redirects(all_redirects, node, out, nest, parent=index, heredoc=stdin,
                             program=words[0].text, content_spans=content)
        if index is not None and stdin:  # `python3 - <<EOF` / `echo code | python3`
            ev = self.sink.events[index]
            if isinstance(ev, Exec) and ev.name.rstrip("0123456789.") in PYTHONS \
                    and ev.script is None and "-c" not in ev.argv and "-m" not in ev.argv:
                self.sink.text_out = shown and not redirected
                self.nested(Word(stdin, span[0], span[1], heredoc_at[1] if heredoc_at else None),
                            span, "python -c", index, python=True)
                self.sink.text_out = shown
        return out

    # ---- data spans ----------------------------------------------------------------------------
    def mark(self, node: Any) -> None:
        self.sink.mark_data(self.frame, *self.span(node))

    def pure(self, w: Word) -> bool:
        """True when nothing inside the word runs (no substitution, or only `$(cat <<'EOF'...)`)."""
        raw = self.text[w.start:w.end]
        if len(raw) >= 2 and raw[0] == raw[-1] == "'" and "'" not in raw[1:-1]:
            return True  # single quotes: nothing inside expands
        return not any(x in raw for x in _RUNS_TEXT) or _quoted_heredoc_substitution(raw)

    def data_of(self, words: list[Word], index: int | None, span: tuple[int, int],
                in_spans: list[tuple[int, int]], redirects: Any) -> list[tuple[int, int]]:
        """Mark what of this command is data; returns the local spans its stdout is made of
        (for the content of a file it writes, and for the next pipeline stage)."""
        if index is None:
            return []
        ev = self.sink.events[index]
        if not isinstance(ev, Exec) or ev.launch in ("xargs", "find -exec") or len(ev.argv) > len(words):
            return []
        name = ev.name
        echo = name in ("echo", "printf")
        if not (echo or ev.informational or in_spans or name in _TEXT_PROGRAMS or is_no_op(name)):
            return []  # the common case: nothing of this command can be data
        args = words[len(words) - len(ev.argv):]
        if tuple(w.text for w in args) != ev.argv:
            return []  # argv is not a tail of the words (busybox, su): spans unknown
        if ev.informational:
            if not any(x in self.text[span[0]:span[1]] for x in _RUNS_TEXT):
                self.sink.mark_data(self.frame, *span)
            return []
        out: list[tuple[int, int]] = []
        if echo:
            rest = args[1:]
            while name == "echo" and rest and rest[0].text[:1] == "-" and len(rest[0].text) > 1 \
                    and set(rest[0].text[1:]) <= set("neE"):
                rest = rest[1:]
            out = [(w.start, w.end) for w in rest if self.pure(w)]
        elif is_no_op(name):
            for w in args[1:]:
                if self.pure(w):
                    self.sink.mark_data(self.frame, w.start, w.end)
        elif in_spans and stdin_is_text(name, ev.argv) and not any(
                x in self.text[span[0]:span[1]] for x in _RUNS_TEXT):  # not `tee >(sh)`
            if not is_text_filter(name) or self.shown(name, ev.argv, redirects):
                for s, e in in_spans:  # a message (`git commit -F - <<EOF`) or shown text
                    self.sink.mark_data(self.frame, s, e)
            if is_text_filter(name):  # its output is made of (part of) that text
                out = list(in_spans)
        if name in _TEXT_PROGRAMS:
            for i in text_argument_indices(name, ev.argv):
                if self.pure(args[i]):
                    self.sink.mark_data(self.frame, args[i].start, args[i].end)
        if out and self.shown(name, ev.argv, redirects):
            for s, e in out:
                self.sink.mark_data(self.frame, s, e)
        self.out_spans = out
        return out

    def shown(self, name: str, argv: tuple[str, ...], redirects: Any) -> bool:
        """True when the command's stdout is shown or written to an ordinary file, not run,
        captured, or installed as persistence."""
        target = _stdout_target(self, redirects)
        if target not in (None, "file") or (target is None and not self.sink.text_out):
            return False
        written = _stdout_paths(self, redirects) + (
            [a for a in argv[1:] if not a.startswith("-")] if name == "tee" else [])
        # only documents and fixtures are data by their name (informational.yaml, data_files):
        # a script, a config or `$TF` may be loaded by something the flow does not know, and a
        # crontab, rc file or authorized_keys is itself the action
        return all(is_data_file(p) and not persist_mechanism(p) for p in written)

    def brace_command(self, node: Any, nest: int, stdin: str | None) -> str | None:
        """`{cat,/etc/passwd}` or `{nm,ap} -p 1 h`: bash expands the braces into words."""
        text = self.src(node)
        close = text.find("}")
        start, end = self.span(node)
        words = [Word(w, start, end) for w in brace_expand(text[:close + 1], self.sink.caps.max_words)]
        kids = node.named_children
        if kids and kids[0].type == "command":
            for arg in kids[0].children_by_field_name("argument"):
                words.extend(self.words(arg, nest))
        out = self.run(words, node, nest, stdin=stdin, redirects=[], background=False, prefix_env=[])
        for child in kids[1:]:
            out = self.statement(child, nest + 1)
        return out

    def child_env(self, prefix_env: list[tuple[str, Word]]) -> dict[str, Any] | None:
        """The variables a child process starts with: exported ones and `X=v cmd` prefixes."""
        if not self.exported and not prefix_env:
            return None
        env = {n: self.vars[n] for n in self.exported if isinstance(self.vars.get(n), str)}
        env.update((n, None if w.reason else w.text) for n, w in prefix_env)
        return env

    def run_substituted(self, index: int, span: tuple[int, int]) -> None:
        """`source <(...)`, `. <(...)`, `bash <(...)`: the shell runs what the substitution printed."""
        ev = self.sink.events[index]
        if not isinstance(ev, Exec) or len(ev.argv) < 2:
            return
        if ev.name in ("source", "."):
            path, same = ev.argv[1], True
        elif ev.name in SHELLS and ev.script is not None:
            path, same = ev.script, False
        else:
            return
        text = self.fd_texts.get(path)
        if text is not None:
            self.nested(Word(text, span[0], span[1]), span, "eval" if same else "sh -c", index,
                        same_shell=same)

    def nested(self, code: Word, span: tuple[int, int], launch: str, parent: int | None, *,
               python: bool = False, same_shell: bool = False) -> None:
        if code.reason:
            self.sink.note(f"{launch} of an unresolved string ({code.reason})")
            self.sink.add(Exec(self.frame.source(*span), (code.text,), "?", code.text, launch,  # type: ignore[arg-type]
                               self.wrappers, None, False, self.frame.depth + 1, parent,
                               (code.reason,)))
            return
        sub = self.frame.nested(launch=launch, span=(code.start, code.end), inner_offset=code.inner,
                                decoded_from=None, parent=parent)
        if sub.depth > self.sink.caps.max_depth:
            self.sink.note(f"depth cap {self.sink.caps.max_depth} reached")
            return
        if python:
            from .python import parse_into as parse_python

            parse_python(code.text, sub, self.sink)
        else:
            parse_into(code.text, sub, self.sink, shared=self if same_shell else None,
                       args=self.args)

    def apply_redirects(self, redirects: Any, node: Any, out: str | None, nest: int, *,
                        parent: int | None, heredoc: str | None, program: str = "",
                        content_spans: list[tuple[int, int]] | None = None) -> None:
        span = self.span(node)
        em = Emit(self.frame, self.sink, span[0], span[1], parent)
        for r in redirects:
            if r.type != "file_redirect":
                continue
            op = next((c.type for c in r.children if not c.is_named), ">")
            dest = r.child_by_field_name("destination")
            if dest is None:
                continue
            targets = self.words(dest, nest)
            if not targets:
                continue
            target = targets[0]
            path = target.text
            if op in (">&", "<&", ">&-", "<&-") and (path.isdigit() or path == "-"):
                continue
            if path.startswith(("/dev/tcp/", "/dev/udp/")):
                parts = path.split("/")
                if len(parts) >= 5:
                    port = int(parts[4]) if parts[4].isdigit() and len(parts[4]) <= 5 else None
                    em.connect(parts[3], port, parts[2], "bash",
                               reasons=(target.reason,) if target.reason else ())
                continue
            if path.startswith(_NULL_TARGETS):
                continue
            if op in ("<",):
                em.read(path, "redirect")
                continue
            mode = "append" if op in (">>", "&>>") else "write"
            how = "heredoc" if heredoc is not None and program in ("cat", "tee") else "redirect"
            reasons = tuple(x for x in (target.reason,) if x)
            if out is None:
                reasons += ("output not known statically",)
            stdout = _descriptor(self, r) in ("", "1") or op in ("&>", "&>>")
            em.write(path, out, mode=mode, how=how, reasons=reasons,
                     content_spans=tuple(content_spans or ()) if stdout else ())

    # ---- assignments -------------------------------------------------------------------------
    def assign(self, node: Any, nest: int, *, exported: bool) -> None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name_node is None:
            return
        name = self.src(name_node)
        append = any(not c.is_named and c.type == "+=" for c in node.children)
        if name_node.type == "subscript":
            base = name_node.child_by_field_name("name")
            if base is not None:
                self.vars[self.src(base)] = None
            return
        if value_node is not None and value_node.type == "array":
            items = [w for c in value_node.named_children for w in self.words(c, nest)]
            old = self.vars.get(name) if append else []
            self.vars[name] = (old if isinstance(old, list) else []) + [
                w.text if w.reason is None else None for w in items][:256]
            value_text = " ".join(w.text for w in items)
            reason = next((w.reason for w in items if w.reason), None)
        else:
            vals = self.words(value_node, nest, quoted=True) if value_node is not None else []
            value = vals[0] if vals else Word("", 0, 0)
            reason = value.reason
            old = self.vars.get(name, "") if append else ""
            if append and not isinstance(old, str):
                old = None
            self.vars[name] = None if (reason or old is None) else self.limit(old + value.text)
            value_text = value.text
        if exported:
            self.exported.add(name)
        span = self.span(node)
        Emit(self.frame, self.sink, span[0], span[1], self.frame.parent).env(
            name, value_text, exported=exported, scope="shell",
            reasons=(reason,) if reason else ())

    def declaration(self, node: Any, nest: int) -> None:
        keyword = self.src(node.child(0)) if node.child_count else ""
        exported = keyword == "export" or any(
            c.type == "word" and self.src(c).startswith("-") and "x" in self.src(c)
            for c in node.named_children)
        for child in node.named_children:
            if child.type == "variable_assignment":
                self.assign(child, nest, exported=exported)
            elif child.type == "variable_name" and exported:
                self.exported.add(self.src(child))
                span = self.span(child)
                value = self.vars.get(self.src(child))
                Emit(self.frame, self.sink, span[0], span[1], self.frame.parent).env(
                    self.src(child), value if isinstance(value, str) else None,
                    exported=True, scope="shell")

    # ---- words ---------------------------------------------------------------------------------
    def words(self, node: Any, nest: int, *, quoted: bool = False) -> list[Word]:
        """Expand a word-like node into words (several after brace expansion or splitting)."""
        if node is None or not self.sink.tick():
            return []
        start, end = self.span(node)
        if node.type in ("word", "number"):  # the common case, without the general machinery
            raw = self.src(node)
            if "\\" not in raw and "{" not in raw:
                return [Word(self.limit(raw), start, end, start)]
        return self.from_pieces(self.pieces(node, nest, quoted), start, end, quoted)

    def from_pieces(self, pieces: list[tuple[str, bool, str | None, int | None, bool]], start: int,
                    end: int, quoted: bool) -> list[Word]:
        """The words one shell word's expanded pieces make (split, brace-expanded)."""
        text = self.limit("".join(p[0] for p in pieces))
        reason = next((p[2] for p in pieces if p[2]), None)
        inner = None
        if len(pieces) == 1 and pieces[0][3] is not None:
            inner = self.pos(pieces[0][3])
        if quoted:
            return [Word(text, start, end, inner, reason)]
        if any(p[1] for p in pieces):  # unquoted expansion: split on whitespace
            fields = _split_fields(pieces)
            if not fields:
                return []
            return [Word(self.limit(f.translate(_UNPROTECT)), start, end, None, reason) for f in fields]
        literal_braces = all(not (set(p[0]) & {"{", "}", ","}) for p in pieces if not p[4])
        if "{" in text and "}" in text and literal_braces:
            expanded = brace_expand(text, self.sink.caps.max_words)
            if len(expanded) > 1:
                return [Word(w, start, end, None, reason) for w in expanded]
        return [Word(text, start, end, inner, reason)]

    def glued(self, nodes: list[Any], nest: int) -> list[Word]:
        """Nodes the grammar splits but bash reads as one word (no blank between them), as
        after a bare `$` before a digit (`ssh$IFS$9-R`: `$9` is the ninth positional)."""
        pieces: list[tuple[str, bool, str | None, int | None, bool]] = []
        for k, n in enumerate(nodes):
            part = self.pieces(n.named_children[0] if n.type == "command_name" and n.named_children else n,
                               nest, False)
            prev = self.src(nodes[k - 1]) if k else ""
            if prev.endswith("$") and not prev.endswith("\\$") and part and part[0][0][:1].isdigit():
                head = part[0]
                part = [self.positional(head[0][0], False), (head[0][1:], False, head[2], None, head[4])] + part[1:]
            pieces.extend(part)
        start, end = self.span(nodes[0])[0], self.span(nodes[-1])[1]
        return self.from_pieces(pieces, start, end, False)

    def pieces(self, node: Any, nest: int, quoted: bool) -> list[tuple[str, bool, str | None, int | None, bool]]:
        """(text, split-able, unresolved reason, verbatim start byte, from a literal) per part."""
        if nest > self.sink.caps.max_nesting or not self.sink.tick():
            return [("", False, "nesting cap", None, False)]
        t = node.type
        if t in ("word", "number", "command_name"):
            if t == "command_name" and node.named_children:
                return self.pieces(node.named_children[0], nest + 1, quoted)
            raw = self.src(node)
            if "\\" in raw:
                return [(unescape(raw), False, None, None, True)]
            return [(raw, False, None, node.start_byte, True)]
        if t == "raw_string":
            raw = self.src(node)
            return [(raw[1:-1], False, None, node.start_byte + 1, False)]
        if t == "ansi_c_string":
            return [(ansi_c(self.src(node)[2:-1]), False, None, None, False)]
        if t in ("string", "translated_string"):
            out: list[tuple[str, bool, str | None, int | None, bool]] = []
            kids = node.named_children
            if len(kids) == 1 and kids[0].type == "string_content" and "\\" not in self.src(kids[0]):
                return [(self.src(kids[0]), False, None, kids[0].start_byte, False)]
            for child in kids:
                if child.type == "string_content":
                    out.append((unescape(self.src(child), '"\\$`\n'), False, None, None, False))
                else:
                    # "${arr[@]}" and "$@" still expand to one word per element
                    each = child.type in ("expansion", "simple_expansion") and self.src(child) in (
                        "$@", "${@}") or (child.type == "expansion" and self.src(child).endswith("[@]}"))
                    items = self.elements(self.src(child)) if each and not quoted else None
                    if items is not None:  # one word per element, blanks inside an element kept
                        out.append((" ".join(i.translate(_PROTECT) for i in items), True, None, None, False))
                        continue
                    for text, split, reason, _v, _lit in self.pieces(child, nest + 1, not each):
                        out.append((text, split and each, reason, None, False))
            if not out:
                out.append(("", False, None, None, False))
            return out
        if t == "concatenation":
            out = []
            for child in node.named_children:
                out.extend(self.pieces(child, nest + 1, quoted))
            if not node.named_children:
                out.append((self.src(node), False, None, None, True))
            return out
        if t == "simple_expansion":
            name = self.src(node)[1:]
            if name[:1].isdigit() and len(name) > 1:  # `$99000`: bash reads `$9`, then "9000"
                return [self.positional(name[0], quoted), (name[1:], False, None, None, True)]
            return [self.lookup(name, None, quoted)]
        if t == "expansion":
            return [self.expansion(self.src(node)[2:-1], quoted)]
        if t in ("command_substitution", "process_substitution"):
            out_text = self.substitution(node, nest)
            if t == "process_substitution":
                path = f"/dev/fd/{63 - len(self.fd_texts)}"
                if out_text is not None and self.src(node).startswith("<(") and len(self.fd_texts) < 32:
                    self.fd_texts[path] = out_text
                return [(path, False, None, None, False)]
            if out_text is None:
                return [(self.src(node), False, "command substitution output", None, False)]
            return [(out_text.rstrip("\n"), not quoted, None, None, False)]
        if t == "arithmetic_expansion":
            value = arith(self.src(node)[3:-2])
            if value is None:
                return [(self.src(node), False, "arithmetic expansion", None, False)]
            return [(value, False, None, None, False)]
        if t == "array":
            items = [w.text for c in node.named_children for w in self.words(c, nest + 1)]
            return [(" ".join(items), False, None, None, False)]
        return [(self.src(node), False, None, node.start_byte, True)]

    def substitution(self, node: Any, nest: int) -> str | None:
        saved, shown, spans = self.frame, self.sink.text_out, (self.in_spans, self.out_spans)
        self.frame = Frame(saved.origin, saved.depth, "substitution", saved.offset, saved.fixed,
                           saved.decoded_from, saved.parent)
        self.sink.text_out = False  # the output becomes words of another command
        self.in_spans = []
        try:
            out = None
            for child in node.named_children:
                out = self.statement(child, nest + 1)
            return out
        finally:
            self.frame, self.sink.text_out = saved, shown
            self.in_spans, self.out_spans = spans

    def lookup(self, name: str, index: str | None, quoted: bool) -> tuple[str, bool, str | None, int | None, bool]:
        if name == "IFS":
            return (" ", not quoted, None, None, False)
        if name.isdigit() or name in ("@", "*", "#"):
            return self.positional(name, quoted)
        value = self.vars.get(name, _UNSET)
        if isinstance(value, list):
            if index in (None, "0"):
                value = value[0] if value else ""
            elif index in ("@", "*"):
                if any(v is None for v in value):
                    return (f"${{{name}[@]}}", False, f"${name} partly unknown", None, False)
                return (" ".join(value), not quoted, None, None, False)
            elif index.isdigit() and int(index) < len(value):
                value = value[int(index)]
            else:
                return (f"${{{name}[{index}]}}", False, f"${name}[{index}] unknown", None, False)
        if value is _UNSET:
            text = f"${name}" if index is None else f"${{{name}[{index}]}}"
            if name in _ENV_SYMBOLIC:
                return (text, False, None, None, False)
            return (text, False, f"${name} unknown", None, False)
        if value is None:
            return (f"${name}", False, f"${name} unknown", None, False)
        return (value, not quoted, None, None, False)

    def elements(self, src: str) -> list[str] | None:
        """The elements `"$@"` or `"${arr[@]}"` expands to, when all are known."""
        if src in ("$@", "${@}"):
            return None if self.args is None else list(self.args[1:])
        value = self.vars.get(src[2:-4]) if src.startswith("${") else None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None

    def positional(self, name: str, quoted: bool) -> tuple[str, bool, str | None, int | None, bool]:
        """`$0`..`$N`, `$@`, `$*`, `$#` from the positional parameters when they are known."""
        if self.args is None:
            return (f"${name}", False, f"${name} unknown", None, False)
        if name == "#":
            return (str(len(self.args) - 1), False, None, None, False)
        if name in ("@", "*"):
            return (" ".join(self.args[1:]), not quoted, None, None, False)
        n = int(name)
        return (self.args[n] if n < len(self.args) else "", not quoted, None, None, False)

    def expansion(self, inner: str, quoted: bool) -> tuple[str, bool, str | None, int | None, bool]:
        if inner in ("#", "@", "*") or inner.isdigit():
            return self.lookup(inner, None, quoted)
        if inner.startswith("!") and inner[1:].replace("_", "a").isalnum():  # ${!name}: indirection
            target = self.lookup(inner[1:], None, True)
            if target[2] or not target[0].replace("_", "a").isalnum():
                return ("${" + inner + "}", False, "indirect expansion", None, False)
            return self.lookup(target[0], None, quoted)
        if inner.startswith("#"):
            got = self.lookup(inner[1:], None, True)
            return (str(len(got[0])), False, got[2], None, False) if not got[2] else got
        n = 0
        while n < len(inner) and (inner[n].isalnum() or inner[n] == "_"):
            n += 1
        name, rest = inner[:n], inner[n:]
        index = None
        if rest.startswith("[") and "]" in rest:
            index, rest = rest[1:rest.index("]")], rest[rest.index("]") + 1:]
        if not name:
            return ("${" + inner + "}", False, "parameter expansion", None, False)
        if not rest:
            return self.lookup(name, index, quoted)
        for op in (":-", "-", ":=", "="):
            if rest.startswith(op):
                value = self.vars.get(name, _UNSET)
                if value is _UNSET or (op.startswith(":") and value == ""):
                    return (rest[len(op):], False, None, None, False)
                return self.lookup(name, index, quoted)
        base = self.lookup(name, index, True)
        value = None if base[2] else param_op(base[0], rest)
        if value is None:
            return ("${" + inner + "}", False, f"parameter operation on ${name}", None, False)
        return (self.limit(value), not quoted, None, None, False)


# blanks inside one element of "$@" / "${a[@]}", hidden from field splitting and restored after
_PROTECT = str.maketrans({" ": "\x1e", "\t": "\x1d", "\n": "\x1c"})
_UNPROTECT = str.maketrans({"\x1e": " ", "\x1d": "\t", "\x1c": "\n"})


class _Unset:
    pass


_UNSET = _Unset()


def _concat(outs: list[str | None]) -> str | None:
    """The output of statements run one after another: known only if each one's is."""
    if any(o is None for o in outs):
        return None
    return "".join(outs)  # type: ignore[arg-type]


def _followed_by_amp(child: Any) -> bool:
    sib = child.next_sibling
    return sib is not None and not sib.is_named and sib.type == "&"


def _byte_to_char(text: str) -> list[int]:
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
    table.append(len(text))
    return table


def _split_fields(pieces: list[tuple[str, bool, str | None, int | None, bool]]) -> list[str]:
    fields: list[str] = []
    current: list[str] = []
    has = False
    for text, split, _r, _v, _l in pieces:
        if not split:
            current.append(text)
            has = has or bool(text) or True
            continue
        parts = text.replace("\t", " ").replace("\n", " ").split(" ")
        for i, part in enumerate(parts):
            if i > 0:
                if current and "".join(current):
                    fields.append("".join(current))
                current = []
            current.append(part)
    if "".join(current):
        fields.append("".join(current))
    return fields


def _descriptor(walker: "_Walker", redirect: Any) -> str:
    fd = redirect.child_by_field_name("descriptor")
    return walker.src(fd) if fd is not None else ""


def _stdout_paths(walker: "_Walker", redirects: Any) -> list[str]:
    """The files stdout is written to, as written (`> f`, `>> ~/.bashrc`)."""
    out = []
    for r in redirects:
        if r.type == "file_redirect" and _descriptor(walker, r) in ("", "1"):
            op = next((c.type for c in r.children if not c.is_named), ">")
            dest = r.child_by_field_name("destination")
            if op in (">", ">>", ">|", "&>", "&>>") and dest is not None:
                out.append(walker.src(dest).strip("'\""))
    return out


def _stdout_target(walker: "_Walker", redirects: Any) -> str | None:
    """Where the command's stdout goes when redirected: "file" (a file, the network, nowhere,
    stderr), "run" (a process substitution `> >(sh)`), "fd" (`>&3`), or None (on down the
    pipeline)."""
    where = None
    for r in redirects:
        if r.type != "file_redirect" or _descriptor(walker, r) not in ("", "1"):
            continue
        op = next((c.type for c in r.children if not c.is_named), ">")
        dest = r.child_by_field_name("destination")
        if op in (">", ">>", ">|", "&>", "&>>", ">&") and dest is not None:
            target = walker.src(dest)
            if any(x in target for x in _RUNS_TEXT):
                return "run"
            if op == ">&" and target.isdigit():
                if target not in ("1", "2"):
                    return "fd"  # `>&3`: a descriptor opened earlier; what it is is not known here
                where = "file" if target == "2" else where  # shown on stderr
            elif not target.startswith(_SHOWN_TARGETS):
                where = "file"
    return where


def _piped_after(node: Any) -> bool:
    prev = node.prev_sibling
    return prev is not None and not prev.is_named and prev.type in ("|", "|&")


def _stage_is_filter(walker: "_Walker", node: Any) -> bool:
    """True when a pipeline stage is a text filter (cat, grep, tee, ...), read statically."""
    if node.type == "redirected_statement":
        node = node.child_by_field_name("body")
    if node is None or node.type != "command":
        return False
    head = node.child_by_field_name("name")
    first = walker.src(head).rpartition("/")[2] if head is not None else ""
    if first not in _STAGE_WRAPPERS and not is_text_filter(first):
        return False  # the common case, without reading the other words
    if any(x in walker.src(node) for x in _RUNS_TEXT):
        return False  # `tee >(sh)`: a process substitution runs what it is given
    words = [walker.src(c) for c in node.named_children if c.type in ("command_name", "word")]
    i = 0
    while i < len(words) and (words[i] in _STAGE_WRAPPERS or (i and words[i].startswith("-")
                                                               and words[i - 1] in _STAGE_WRAPPERS)):
        i += 1
    while 0 < i < len(words) and words[i].startswith("-"):
        i += 1
    if i >= len(words) or not is_text_filter(words[i].rpartition("/")[2]):
        return False
    # `| sudo tee /etc/cron.d/x`: what flows into a crontab or rc file is the action
    return not any(persist_mechanism(w.strip("'\"")) or w.startswith("/etc/sudoers")
                   for w in words[i + 1:])


def _with_content(ev: FileWrite, frame: Frame, spans: list[tuple[int, int]]) -> FileWrite:
    from dataclasses import replace

    if frame.offset is None:
        return ev
    return replace(ev, content_spans=tuple((frame.offset + s, frame.offset + e) for s, e in spans))


def _quoted_heredoc_substitution(raw: str) -> bool:
    """`"$(cat <<'EOF' ... EOF)"`: the output of cat over a quoted heredoc is literal text."""
    body = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not (body.startswith("$(") and body.endswith(")")):
        return False
    inner = body[2:-1].lstrip()
    if not inner.startswith("cat"):
        return False
    rest = inner[3:].lstrip()
    if not rest.startswith("<<"):
        return False
    rest = rest[2:].lstrip("-").lstrip()
    if not rest or rest[0] not in "'\"":
        return False  # an unquoted delimiter expands $(...) inside the body
    quote = rest[0]
    end = rest.find(quote, 1)
    newline = rest.find("\n")
    if end < 0 or newline < end or rest[end + 1:newline].strip():
        return False
    delim = rest[1:end]
    lines = rest[newline + 1:].split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return bool(delim) and bool(lines) and lines[-1].strip() == delim and \
        all(line.strip() != delim for line in lines[:-1])
