"""Evasion transforms: rewrite a shell command the way an evasive agent would, keeping what it does.

Why: rules miss spellings nobody wrote a rule for, and the classifier only learns the disguises it
is shown. Each family here is one disguise idea (quote splitting, base64 layers, interpreter
one-liners, renamed binaries, ...); `evade` composes a random few, so training data covers
combinations, and `HELDOUT_FAMILIES` are kept out of training so that recall on them measures
whether the model generalises to an idea it never saw.

Every transform keeps the command's meaning when bash runs the result (tests run them on harmless
commands), and returns None when it cannot promise that for a given command. "Meaning" is what the
command does and prints; not kept: `$0`, stdin when the payload is piped into a shell, the exit
status of some wrappers, environment variables under `env -i`, and stdout of `detached` (it goes to
a tmux/screen session or /dev/null, as an evasive agent wants). The spellings are data:
``transforms.yaml``.
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

from .shell_words import command_words, defined_functions, lex, simple_words

__all__ = ["FAMILIES", "HELDOUT_FAMILIES", "Transform", "evade", "training_families"]

Transform = Callable[[str, random.Random], Optional[str]]

_DATA = yaml.safe_load(resources.files("safefilter.training").joinpath("transforms.yaml").read_text(encoding="utf-8"))
_BUILTIN_ONLY = frozenset(_DATA["builtin_only"])
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


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
    words = simple_words(f.cmd)
    return f.cmd.strip() if words and words[0] not in _BUILTIN_ONLY else f"bash -c {_quote(f.cmd)}"


def _words(f: _Fill) -> str | None:
    words = simple_words(f.cmd)
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
        tokens = lex(command)
        functions = defined_functions(command)  # a function the line defines has no program to move
        words = [t for t in command_words(tokens) if t.text not in functions] if tokens else []
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
        if pool == "hidden_names":
            return n in command
        return bool(re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w-])", command))
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
    places = [p for p in _DATA["hidden_paths"] if not moves or p.startswith("/")]
    target = _render(rng.choice(places), lambda _: name) or ""
    copy = rng.choice([f"cp {source} {target}", f"cp {source} {target} && chmod +x {target}",
                       f"ln -sf {source} {target}", f"cat {source} > {target}; chmod +x {target}"])
    return f"{copy}; ", target


# --------------------------------------------------------------------------- whole simple commands
def _on_simple(join: Callable[[tuple[str, ...], random.Random], str | None]) -> Transform:
    def transform(command: str, rng: random.Random) -> str | None:
        words = simple_words(command)
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
