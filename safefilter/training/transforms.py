"""Evasion transforms: rewrite a shell command the way an evasive agent would, keeping what it does.

Why: rules miss spellings nobody wrote a rule for, and the classifier only learns the disguises it
is shown. Each family here is one disguise idea (quote splitting, base64 layers, interpreter
one-liners, renamed binaries, ...); `evade` composes a random few, so training data covers
combinations, and `HELDOUT_FAMILIES` are kept out of training so that recall on them measures
whether the model generalises to an idea it never saw.

Every transform keeps the command's meaning when bash runs the result (tests run them on harmless
commands), and returns None when it cannot promise that for a given command. The spellings are
data: ``transforms.yaml``.
"""
from __future__ import annotations

import base64
import codecs
import gzip
import json
import random
import re
import shlex
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Callable, Collection, Mapping, Optional

import yaml

__all__ = ["FAMILIES", "HELDOUT_FAMILIES", "Transform", "evade", "training_families"]

Transform = Callable[[str, random.Random], Optional[str]]

_DATA = yaml.safe_load(resources.files("safefilter.training").joinpath("transforms.yaml").read_text(encoding="utf-8"))
_RESERVED = frozenset(_DATA["reserved_words"])
_BUILTIN_ONLY = frozenset(_DATA["builtin_only"])
_LEADING = frozenset({"!", "time", "if", "then", "elif", "else", "do", "while", "until", "{"})
_STARTS_COMMAND = frozenset({";", "&", "&&", "||", "|", "|&", "(", ";;"})
_OPERATORS = ("&&", "||", ";;", "|&", ">>", "<<", "&>", ">&", "<&", "<>", ">|", "|", "&", ";", "<", ">", "(", ")")
_NAME = re.compile(r"/?[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_FUNCTION = re.compile(r"(?:^|[\s;&|(])(?:function\s+)?([\w.-]+)\s*\(\)|\bfunction\s+([\w.-]+)")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


# --------------------------------------------------------------------------- reading a command
@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int
    op: bool


def _skip(s: str, i: int) -> int:
    """Index just after the quoted or substituted unit that starts at s[i] (one plain character otherwise)."""
    if s[i] == "\\":
        if i + 1 >= len(s):
            raise IndexError("trailing backslash")
        return i + 2
    if s[i] == "'":
        return s.index("'", i + 1) + 1
    if s.startswith("$'", i) or s[i] == "`":
        close, j = s[i + 1] if s[i] == "$" else "`", i + (2 if s[i] == "$" else 1)
        while s[j] != close:
            j += 2 if s[j] == "\\" else 1
        return j + 1
    if s[i] == '"':
        j = i + 1
        while s[j] != '"':
            j = j + 2 if s[j] == "\\" else _skip(s, j) if s[j] == "`" or s.startswith(("$(", "${"), j) else j + 1
        return j + 1
    if s.startswith(("$(", "${"), i):
        opener, close, depth, j = s[i + 1], ")" if s[i + 1] == "(" else "}", 1, i + 2
        while depth:
            depth += (s[j] == opener) - (s[j] == close)
            j = _skip(s, j) if s[j] in "\\'\"`$" else j + 1
        return j
    return i + 1


def _lex(cmd: str) -> tuple[_Token, ...] | None:
    """Top-level words and operators of a one-line command, or None for what this reader does not
    follow (newlines, comments, heredocs, unbalanced quotes): word-level transforms then stay away."""
    out: list[_Token] = []
    i, n = 0, len(cmd)
    try:
        while i < n:
            c = cmd[i]
            if c in " \t":
                i += 1
            elif c in "\n#":
                return None
            elif c in "|&;<>()":
                op = next(o for o in _OPERATORS if cmd.startswith(o, i))
                if op == "<<":
                    return None
                out.append(_Token(op, i, i + len(op), True))
                i += len(op)
            else:
                j = i
                while j < n and cmd[j] not in " \t\n|&;<>()":
                    j = _skip(cmd, j)
                out.append(_Token(cmd[i:j], i, j, False))
                i = j
    except (IndexError, ValueError):
        return None
    return tuple(out)


def _command_words(tokens: tuple[_Token, ...]) -> list[_Token]:
    """The plain command names of a command line (`ssh` in `a=1 ssh ...`, `bash` in `... | bash`)."""
    found: list[_Token] = []
    at_start = True
    for k, t in enumerate(tokens):
        if t.op:
            at_start = t.text in _STARTS_COMMAND
            continue
        if not at_start or t.text in _LEADING:
            continue
        if _ASSIGNMENT.match(t.text):
            continue
        at_start = False
        after = tokens[k + 1] if k + 1 < len(tokens) else None
        glued = after is not None and after.op and (after.text == "(" or after.start == t.end)  # f() or 2>x
        if (t.text not in _RESERVED and not glued and _NAME.fullmatch(t.text) and len(t.text) >= 2
                and re.search("[A-Za-z]", t.text)):
            found.append(t)
    return found


def _simple_words(cmd: str) -> tuple[str, ...] | None:
    """The words of a simple command (a program and its arguments, nothing else), else None."""
    tokens = _lex(cmd)
    if not tokens or any(t.op for t in tokens):
        return None
    words = _command_words(tokens)
    return tuple(t.text for t in tokens) if words and words[0] is tokens[0] else None


def _posix(cmd: str) -> bool:
    """Whether /bin/sh (dash) runs `cmd` as bash would; when unsure, no."""
    return cmd.isascii() and not any(m in cmd for m in _DATA["bash_only"])


def _quote(text: str) -> str:
    """One shell word for `text`, as people write it: '...', or "..." when that needs no escapes."""
    if "'" in text and not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


def _sh_payload(cmd: str) -> str:
    return cmd if _posix(cmd) else f"bash -c {_quote(cmd)}"


def _body(cmd: str) -> str:
    """`cmd` ended so that it can sit inside `{ ... }` or `f() { ... }`."""
    s = cmd.rstrip()
    if "\n" in s or "#" in s or s.endswith(("\\", ";;")):
        return f"\n{s}\n"
    ended = s.endswith((";", "&")) and not s.endswith(("\\;", "\\&"))  # find -exec ... \; is not an end
    return s if ended else s + ";"


# --------------------------------------------------------------------------- placeholders
_LITERALS: Mapping[str, Callable[[str], str]] = {
    "python": repr,
    "json": json.dumps,
    "single_quoted": lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'",
    "awk": lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"',
}


@dataclass
class _Fill:
    """The values of one template's placeholders; a name used twice gets the same value."""
    cmd: str
    rng: random.Random
    literal: str = "python"
    code: tuple[str, ...] = ()
    seen: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, name: str) -> str | None:
        if name not in self.seen:
            self.seen[name] = _VALUES[name](self)
        return self.seen[name]

    def fresh(self, pool: str) -> str:
        taken = {v for v in self.seen.values() if v}
        return _names(self.cmd, self.rng, 1, pool, taken)[0]


def _argv(f: _Fill) -> str:
    words = _simple_words(f.cmd)
    return f.cmd.strip() if words and words[0] not in _BUILTIN_ONLY else f"bash -c {_quote(f.cmd)}"


def _words(f: _Fill) -> str | None:
    words = _simple_words(f.cmd)
    ok = words and words[0] not in _BUILTIN_ONLY and not any(w.startswith("[") for w in words)
    return " ".join(words) if ok else None


def _reversed(f: _Fill) -> str | None:
    return _quote("\n".join(line[::-1] for line in f.cmd.split("\n"))) if f.cmd.isascii() else None


def _chrs(text: str) -> str:
    return ",".join(str(ord(ch)) for ch in text)


_VALUES: Mapping[str, Callable[[_Fill], str | None]] = {
    "cmd": lambda f: f.cmd,
    "q": lambda f: _quote(f.cmd),
    "sh": lambda f: f.rng.choice(["sh", "bash"]) if _posix(f.cmd) else "bash",
    "shq": lambda f: _quote(_sh_payload(f.cmd)),
    "body": lambda f: _body(f.cmd),
    "argv": _argv,
    "words": _words,
    "b64": lambda f: base64.b64encode(f.cmd.encode()).decode(),
    "gz64": lambda f: base64.b64encode(gzip.compress(f.cmd.encode(), mtime=0)).decode(),
    "hex": lambda f: "".join(f"\\x{b:02x}" for b in f.cmd.encode()),
    "hexplain": lambda f: f.cmd.encode().hex(),
    "oct": lambda f: "".join(f"\\{b:03o}" for b in f.cmd.encode()),
    "oct0": lambda f: "".join(f"\\0{b:03o}" for b in f.cmd.encode()),
    "rot13": lambda f: _quote(codecs.encode(f.cmd, "rot13")),
    "rev": _reversed,
    "var": lambda f: f.fresh("names"),
    "fn": lambda f: f.fresh("names"),
    "eof": lambda f: f.fresh("heredoc_ends"),
    "fake": lambda f: f.rng.choice(_DATA["fake_process_names"]),
    "path": lambda f: _render(f.rng.choice(_DATA["hidden_paths"]), lambda _: f.fresh("hidden_names")),
    "lit": lambda f: _LITERALS[f.literal](f.cmd),
    "shlit": lambda f: _LITERALS[f.literal](_sh_payload(f.cmd)),
    "chrs": lambda f: _chrs(f.cmd),
    "shchrs": lambda f: _chrs(_sh_payload(f.cmd)),
    "code": lambda f: _maybe(_render(f.rng.choice(f.code), f), _quote),
}


def _maybe(value: str | None, then: Callable[[str], str]) -> str | None:
    return None if value is None else then(value)


def _render(template: str, value: Callable[[str], str | None]) -> str | None:
    """Fill {{name}} placeholders in one pass; None when one of them has no value for this command."""
    parts: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(template):
        filled = value(m.group(1))
        if filled is None:
            return None
        parts += [template[last:m.start()], filled]
        last = m.end()
    return "".join(parts) + template[last:]


def _templated(templates: list[str], literal: str = "python", code: tuple[str, ...] = ()) -> Transform:
    def transform(command: str, rng: random.Random) -> str | None:
        for template in rng.sample(templates, len(templates)):
            out = _render(template, _Fill(command, rng, literal, code))
            if out is not None:
                return out
        return None
    return transform


# --------------------------------------------------------------------------- word-level rewrites
Rewrite = Callable[[str, str, random.Random], Optional[tuple[str, str]]]  # (word, command, rng) -> (prefix, new word)


def _on_command_word(rewrite: Rewrite) -> Transform:
    """A transform that rewrites one command name of the line (`ssh`, or `bash` in `... | bash`)."""
    def transform(command: str, rng: random.Random) -> str | None:
        tokens = _lex(command)
        functions = {a or b for a, b in _FUNCTION.findall(command)}  # a function the line defines has no program to move
        words = [t for t in _command_words(tokens) if t.text not in functions] if tokens else []
        if not words:
            return None
        t = rng.choice(words)
        done = rewrite(t.text, command, rng)
        return None if done is None else done[0] + command[:t.start] + done[1] + command[t.end:]
    return transform


def _cuts(word: str, rng: random.Random, pieces: int) -> list[str]:
    points = sorted(rng.sample(range(1, len(word)), min(pieces - 1, len(word) - 1)))
    return [word[a:b] for a, b in zip([0, *points], [*points, len(word)])]


def _names(command: str, rng: random.Random, k: int, pool: str = "names", taken: Collection[str] = ()) -> list[str]:
    """`k` distinct names from `pool` that occur in `command` as no word (numbered ones when all do)."""
    def used(n: str) -> bool:  # file names: anywhere in the text; identifiers: as a whole word
        return n in command if pool == "hidden_names" else bool(re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w-])", command))
    spare = [n for n in _DATA[pool] if n not in taken and not used(n)]
    spare += [f"_v{i}" for i in range(100) if f"_v{i}" not in command][:k]
    return rng.sample(spare, k)


def _quote_split(word: str, command: str, rng: random.Random) -> tuple[str, str]:
    style = rng.randrange(4)
    if style == 0:
        return "", rng.choice(["''", '""']).join(_cuts(word, rng, rng.randint(2, 3)))
    if style == 1:
        return "", "".join("\\" + ch if ch.isalnum() else ch for ch in word)
    head, tail = _cuts(word, rng, 2)
    q = rng.choice(["'", '"'])
    return "", f"{q}{head}{q}{tail}" if style == 2 else f"{head}{q}{tail}{q}"


def _var_split(word: str, command: str, rng: random.Random) -> tuple[str, str]:
    pieces = _cuts(word, rng, rng.randint(2, 3))
    names = _names(command, rng, len(pieces))
    sets = "; ".join(f"{n}={p}" for n, p in zip(names, pieces))
    use = "".join(f"${n}" if rng.random() < 0.5 else f"${{{n}}}" for n in names)
    return f"{rng.choice(['', 'export '])}{sets}; ", use


def _param_expansion(word: str, command: str, rng: random.Random) -> tuple[str, str]:
    v = _names(command, rng, 1)[0]
    junk = next(j for j in ("_", "Q", "X", "0", "Z9") if j not in word)
    forms = [(junk.join(_cuts(word, rng, 3)), f"${{{v}//{junk}/}}"),
             (junk * 3 + word, f"${{{v}:{len(junk) * 3}}}"),
             (word + junk, f"${{{v}%{junk}}}")]
    if word.islower():
        forms.append((word.upper(), f"${{{v},,}}"))
    value, use = rng.choice(forms)
    return f"{v}={value}; ", use


def _command_substitution(word: str, command: str, rng: random.Random) -> tuple[str, str]:
    head, tail = _cuts(word, rng, 2)
    return "", rng.choice([f"$(echo {word})", f"`echo {word}`", f"$(printf %s {head}){tail}", f"$(printf '%s' {word})"])


def _escaped(fmt: str) -> Rewrite:
    return lambda word, command, rng: ("", "$'" + "".join(fmt.format(b) for b in word.encode()) + "'")


def _full_path(word: str, command: str, rng: random.Random) -> tuple[str, str] | None:
    if "/" in word or word in _BUILTIN_ONLY:
        return None
    known = _DATA["full_paths"].get(word)
    return "", known or rng.choice([f'"$(command -v {word})"', f"$(which {word})", f'"$(type -P {word})"'])


def _renamed_binary(word: str, command: str, rng: random.Random) -> tuple[str, str] | None:
    if word in _BUILTIN_ONLY or ("/" in word and command.count(word) > 1):  # a path the line itself makes
        return None
    source = word if "/" in word else rng.choice([f"$(which {word})", f'"$(type -P {word})"'])
    name = _names(command, rng, 1, "hidden_names")[0]
    moves = re.search(r"\b(?:cd|pushd|popd)\b", command)  # a relative ./ path would point elsewhere after cd
    target = _render(rng.choice([p for p in _DATA["hidden_paths"] if not moves or p.startswith("/")]), lambda _: name) or ""
    copy = rng.choice([f"cp {source} {target}", f"cp {source} {target} && chmod +x {target}",
                       f"ln -sf {source} {target}", f"cat {source} > {target}; chmod +x {target}"])
    return f"{copy}; ", target


# --------------------------------------------------------------------------- whole simple commands
def _on_simple(join: Callable[[tuple[str, ...], random.Random], str | None]) -> Transform:
    def transform(command: str, rng: random.Random) -> str | None:
        words = _simple_words(command)
        if not words or len(words) < 2 or any(w in ("''", '""') or w.startswith("~") for w in words):
            return None
        return join(words, rng)
    return transform


def _ifs(words: tuple[str, ...], rng: random.Random) -> str:
    return rng.choice(["${IFS}", "$IFS$9", "${IFS%??}"]).join(words)


def _brace(words: tuple[str, ...], rng: random.Random) -> str | None:
    return None if any(c in w for w in words for c in ",{}") else "{" + ",".join(words) + "}"


def _either(word_level: Transform, whole: Transform, share: float = 0.4) -> Transform:
    """Rewrite one command name with probability `share` (when the line has one), else the whole line."""
    def transform(command: str, rng: random.Random) -> str | None:
        return (rng.random() < share and word_level(command, rng)) or whole(command, rng)
    return transform


def _nonblank(transform: Transform) -> Transform:
    return lambda command, rng: transform(command, rng) if command.strip() else None


def _families() -> dict[str, Transform]:
    templates = _DATA["templates"]
    made: dict[str, Transform] = {name: _templated(t) for name, t in templates.items()}
    made.update({name: _templated(spec["outer"], spec["literal"], tuple(spec["code"]))
                 for name, spec in _DATA["interpreters"].items()})
    made.update({
        "quote_split": _on_command_word(_quote_split),
        "var_split": _on_command_word(_var_split),
        "param_expansion": _on_command_word(_param_expansion),
        "command_substitution": _on_command_word(_command_substitution),
        "full_path": _on_command_word(_full_path),
        "renamed_binary": _on_command_word(_renamed_binary),
        "hex": _either(_on_command_word(_escaped("\\x{:02x}")), made["hex"]),
        "octal": _either(_on_command_word(_escaped("\\{:03o}")), made["octal"]),
        "ifs": _on_simple(_ifs),
        "brace_expansion": _on_simple(_brace),
    })
    return {name: _nonblank(made[name]) for name in sorted(made)}


FAMILIES: Mapping[str, Transform] = MappingProxyType(_families())

# Never used in training (evade's default), so recall on them measures generalisation to an unseen
# idea. Each is a mechanism no training family teaches: ${IFS} hides the spaces between words
# (nothing else removes them), octal escapes carry no \x or base64 marker, ruby is an interpreter
# the training one-liners never name, and brace expansion builds argv from one word. (`reverse`
# is not held out: the existing generator's "reversed" disguise already trains on it.)
HELDOUT_FAMILIES: frozenset[str] = frozenset({"ifs", "octal", "ruby_oneliner", "brace_expansion"})


def training_families() -> tuple[str, ...]:
    """The families `evade` uses by default: all but the held-out ones, sorted."""
    return tuple(sorted(set(FAMILIES) - HELDOUT_FAMILIES))


def evade(command: str, rng: random.Random, *, families: Collection[str] | None = None,
          depth: int | None = None) -> tuple[str, tuple[str, ...]]:
    """Apply 1..`depth` applicable transforms (random 1-3 when None), each wrapping the previous
    output; returns the new command and the family names in the order applied. The command comes
    back unchanged, with no names, only when no family applies to it."""
    names = training_families() if families is None else tuple(sorted(set(families)))
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown transform families: {', '.join(unknown)}")
    if depth is not None and depth < 1:
        raise ValueError("depth must be at least 1")
    steps = rng.randint(1, 3) if depth is None else depth
    current, applied = command, []
    for _ in range(steps):
        for name in rng.sample(names, len(names)):
            out = FAMILIES[name](current, rng)
            if out is not None and out != current:
                current = out
                applied.append(name)
                break
        else:
            break
    return current, tuple(applied)
