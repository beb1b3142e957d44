"""Which action texts the trajectory stage parses: the ones that can change a verdict.

Parsing is the expensive part of the event stage (a Python cell costs milliseconds, a rule
match over it microseconds), and most actions of a real rollout (`ls`, `git status`, a pandas
cell) can yield nothing a rule reads. A text is parsed when

- a text rule could fire on it: its masks (what of it is data) may then matter;
- it mentions a file written earlier in the record: the data flow must see that file run;
- it contains a trigger from `gate.yaml`: a program whose events rules read, or a mark of
  indirection, encoding, writing or networking (quotes inside a word, `$(`, `\\x6e`, `://`).

A text that is not parsed keeps its text-rule path whole (no masks), so the gate can only cost
event-rule recall, never text-rule recall; every event rule's own examples go through it in
`safefilter rules test`, which keeps the trigger list honest.
"""
from __future__ import annotations

import fnmatch
from importlib import resources
from typing import Any, Callable, Iterable

import re2
import yaml

from .argv import PYTHONS, SHELLS

__all__ = ["ParseGate"]

#: Written file names checked by substring per action; past this every later action is parsed.
MAX_NAMES = 256
#: Characters at each end of a long tool output searched for telling markers.
OUTPUT_WINDOW = 4096


def _load() -> dict[str, Any]:
    return yaml.safe_load(resources.files("safefilter").joinpath("events/gate.yaml").read_text())


def _word_alternation(words: Iterable[str]) -> str:
    """A program name as a command word: after a separator, a quote or a `/` (`/usr/bin/nc`), and
    followed by one (so `src/batch.py` and `my-ssh-notes` are not `batch` and `ssh`)."""
    return r"(?:^|[\s;&|(`'\"/!=])(?:" + "|".join(sorted({re2.escape(w) for w in words if w}, key=len, reverse=True)) \
        + r")(?:$|[\s;&|)`'\"])"


class ParseGate:
    """Decides per action text whether the event stage parses it. Build once per worker.

    `text_fires(kind, text)` says whether some text rule could fire on a text of that kind (the
    rule engine's prefilter); None means "always" (every text is treated as a possible match).
    """

    def __init__(self, text_fires: Callable[[str, str], bool] | None = None,
                 extra_programs: Iterable[str] = ()) -> None:
        from .argv import _INLINE, _WRAP_VALUE
        from .tools import _TABLE

        data = _load()
        programs = set(data["shell"]["programs"]) | set(_TABLE) | set(_WRAP_VALUE) | set(_INLINE)
        programs |= SHELLS | PYTHONS
        programs -= set(data["shell"]["not_alone"])
        programs |= set(extra_programs)
        options = re2.Options()
        options.case_sensitive = False
        options.max_mem = 64 << 20
        shell = [_word_alternation(programs)] + list(data["shell"]["markers"])
        self._shell = re2.compile("|".join(f"(?:{p})" for p in shell), options)
        sinks = list(data["python"]["sinks"])
        self._python_sinks = re2.compile("|".join(f"(?:{p})" for p in sinks), options)
        self._python = re2.compile("|".join(f"(?:{p})" for p in sinks + list(data["python"]["writes"])), options)
        self._observation = re2.compile("|".join(f"(?:{p})" for p in data["observation_markers"]), options)
        self._runners = [(re2.compile(r["pattern"], options), tuple(r["files"])) for r in data["runners"]]
        self.text_fires = text_fires
        self.record_fires: dict[str, bool] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"text_fires": self.text_fires}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["text_fires"])

    def triggered(self, kind: str, text: str) -> bool:
        """A trigger of gate.yaml occurs in the text."""
        pattern = self._shell if kind == "shell" else self._python
        return pattern.search(text) is not None

    def rules_could_fire(self, kind: str, text: str) -> bool:
        if self.record_fires is not None and not self.record_fires.get(kind, True):
            return False  # no text rule of this kind fires anywhere in the record
        return self.text_fires is None or self.text_fires(kind, text)

    def start_record(self, texts: dict[str, list[str]]) -> None:
        """One prefilter pass per kind over the whole record, so most texts skip their own."""
        if self.text_fires is None:
            self.record_fires = None
            return
        self.record_fires = {kind: self.text_fires(kind, "\n\x00\n".join(parts)) for kind, parts in texts.items()}

    def wants(self, kind: str, text: str, written: set[str]) -> bool:
        """Parse this action text? `written` holds base names (and stems) of files written so far."""
        if self.triggered(kind, text) or self.rules_could_fire(kind, text):
            return True
        if not written:
            return False
        if len(written) > MAX_NAMES:
            return True
        if any(name in text for name in written):
            return True
        return any(pattern.search(text) is not None and any(fnmatch.fnmatchcase(w, g) for w in written for g in globs)
                   for pattern, globs in self._runners)

    def content_matters(self, text: str | None, path: str = "") -> bool:
        """Could running or loading this written content change a verdict? Unknown content (a
        download, a copy) could; known content only when a trigger or a text rule's prefilter
        fires on it. Only such files make later actions that name or load them worth parsing."""
        if text is None:
            return True
        python = path.endswith((".py", ".pyw")) or text.startswith("#!") and "python" in text[:64]
        if python:
            return self._python_sinks.search(text) is not None or self.rules_could_fire("code", text)
        if self._shell.search(text) is not None or self._python_sinks.search(text) is not None:
            return True
        return self.text_fires is None or self.text_fires("shell", text) or self.text_fires("file", text)

    def output_wants_producer(self, text: str) -> bool:
        """Parse the (skipped) action behind this tool output, so the output is attributed? Only
        the strong markers of gate.yaml decide: outputs are most of a record's bytes, and a text
        rule on an output whose producer stays unknown still reads it (the output is kept)."""
        windows = (text[:OUTPUT_WINDOW], text[-OUTPUT_WINDOW:]) if len(text) > 2 * OUTPUT_WINDOW else (text,)
        if any(self._observation.search(w) is not None for w in windows):  # banners open or close an output
            return True
        # as gate.yaml says: also when a text rule could fire on it (`cat fixture.log` showing frp or
        # chisel lines must be known as a shown file, or the fixture reads as the agent's tunnel)
        return self.text_fires is not None and any(self.text_fires("observation", w) for w in windows)
