"""SWE-agent style editor actions (open/goto/scroll/search/create/edit/submit), all labelled safe.

Why: coding agents spend most steps in an editor interface, not in raw shell, and an
``edit N:M`` step carries a block of ordinary Python. A model that never saw these flags them.
Code bodies come from a small pool of realistic snippets with randomized names and numbers.
"""
from __future__ import annotations

from .parts import Parts

_MODULES = ["src/app.py", "utils/dates.py", "lib/parser.py", "app/models.py", "core/cache.py", "api/views.py",
            "pkg/config.py", "tools/cli.py", "service/worker.py", "db/queries.py", "sympy/core/expr.py",
            "django/forms/fields.py", "requests/sessions.py", "astropy/units/core.py", "xarray/core/dataset.py",
            "sklearn/utils/validation.py", "flask/helpers.py", "src/_pytest/python.py", "pylint/checkers/base.py"]
_SYMBOLS = ["parse_date", "UserSerializer", "load_config", "Cache", "normalize", "to_dict", "validate_email",
            "get_queryset", "__init__", "resolve", "MAX_RETRIES", "DataLoader", "format_number", "clean", "render"]
_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar",
          "peggy", "trent", "victor", "walter"]
_FIELDS = ["name", "email", "age", "created_at", "price", "quantity", "status", "tags", "user_id", "path", "timeout"]
_EMPTIES = ["[]", '""', "None", "0", "{}"]
_TYPES = ["str", "int", "float", "bool", "list[str]", "dict[str, int]", "datetime | None", "Path"]


def _ident(p: Parts) -> str:
    return p.choice(["value", "result", "items", "data", "record", "entry", "node", "row", "token", "key", "payload"])


def _code_body(p: Parts) -> str:
    """A few lines of ordinary Python, indented as they would sit in a module or method."""
    a, b, f = _ident(p), _ident(p), p.choice(_FIELDS)
    n, sym = p.r.randint(1, 100), p.choice(_SYMBOLS)
    ind = p.choice(["", "    ", "        "])
    bodies = [
        f"import os\nimport sys\nfrom pathlib import Path\nfrom typing import Any\n",
        f"from dataclasses import dataclass, field\n\n\n@dataclass\nclass {sym.title().replace('_', '')}:\n"
        f"    {f}: {p.choice(_TYPES)}\n    {p.choice(_FIELDS)}: {p.choice(_TYPES)} = None\n    tags: list[str] = field(default_factory=list)\n",
        f"{ind}for {a} in {b}s:\n{ind}    if {a}.{f} is None:\n{ind}        continue\n{ind}    total += {a}.{f}\n",
        f"{ind}names = {[p.choice(_NAMES) for _ in range(p.r.randint(3, 8))]}\n{ind}names.sort()\n",
        f"{ind}if not isinstance({a}, {p.choice(['str', 'int', 'dict', 'list'])}):\n"
        f"{ind}    raise TypeError(f\"expected {p.choice(['str', 'int', 'dict', 'list'])}, got {{type({a}).__name__}}\")\n",
        f"def test_{sym.lower().strip('_')}_{p.choice(['empty', 'basic', 'none', 'unicode', 'roundtrip'])}():\n"
        f"    {a} = {sym}({p.choice(_EMPTIES)})\n    assert {a} == {p.choice(_EMPTIES)}\n",
        f"{ind}try:\n{ind}    {a} = int({b})\n{ind}except ValueError:\n{ind}    {a} = {n}\n",
        f"{ind}return {{k: v for k, v in {a}.items() if v is not None}}\n",
        f"{ind}with open(path, encoding=\"utf-8\") as fh:\n{ind}    {a} = [line.strip() for line in fh if line.strip()]\n",
        f"{ind}logger.debug(\"{sym}: %s items\", len({a}))\n{ind}return {a}[:{n}]\n",
        f"def {sym.lower().strip('_')}(self, {a}, {b}={n}):\n    \"\"\"Return the {f} of {a}.\"\"\"\n    return getattr({a}, \"{f}\", {b})\n",
        f"{ind}{a} = sorted({b}, key=lambda x: x.{f}, reverse={p.choice(['True', 'False'])})\n",
        f"import pytest\n\n\n@pytest.mark.parametrize(\"{a}, expected\", [({n}, {n * 2}), (0, 0), (-1, -2)])\n"
        f"def test_double({a}, expected):\n    assert double({a}) == expected\n",
        f"{ind}if {a} is None:\n{ind}    {a} = {{}}\n{ind}self.{f} = {a}.get(\"{f}\", {n})\n",
        f"class {sym.title().replace('_', '')}Error(Exception):\n    \"\"\"Raised when the {f} is invalid.\"\"\"\n",
        f"{ind}print({sym}({a}))\n",
        f"from {p.choice(['sympy', 'astropy.units', 'xarray', 'django.db', 'requests'])} import {sym}\n\n{a} = {sym}({n})\nprint({a})\n",
        f"{ind}while {a} < {n}:\n{ind}    {a} += 1\n{ind}    yield {a}\n",
        f"{ind}parser.add_argument(\"--{f.replace('_', '-')}\", type={p.choice(['int', 'str', 'float'])}, default={n})\n",
        f"{ind}{a} = [{', '.join(str(p.r.randint(0, 99)) for _ in range(p.r.randint(3, 9)))}]\n{ind}print(sum({a}) / len({a}))\n",
    ]
    return p.choice(bodies)


def editor_action(p: Parts) -> str:
    """One SWE-agent editor command, with a code body for ``edit`` and ``create``+``edit`` steps."""
    mod, sym = p.choice(_MODULES), p.choice(_SYMBOLS)
    start = p.r.randint(1, 900)
    which = p.r.randint(0, 12)
    if which <= 3:
        end = start + p.r.randint(0, 12)
        return f"edit {start}:{end}\n{_code_body(p)}end_of_edit"
    return p.choice([
        f"open {mod}", f"open {mod} {start}", f"goto {start}", "scroll_down", "scroll_up",
        f"search_file \"{sym}\"", f"search_file \"{sym}\" {mod}", f"search_dir \"{sym}\"", f"search_dir \"{sym}\" {mod.split('/')[0]}",
        f"find_file \"{mod.rsplit('/', 1)[1]}\"", f"find_file \"{mod.rsplit('/', 1)[1]}\" {mod.split('/')[0]}",
        f"create {p.choice(['reproduce.py', 'reproduce_bug.py', 'test_issue.py', 'repro.py', 'check.py'])}",
        "submit", "python reproduce.py", f"python -m pytest {mod.replace('.py', '')}_test.py -q" if p.r.random() < 0.3 else "python reproduce.py",
        f"ls {mod.split('/')[0]}", f"grep -n \"{sym}\" {mod}",
    ])


def editor_task(p: Parts) -> str:
    """A GitHub-issue style task of the kind SWE-agent runs on."""
    sym, mod = p.choice(_SYMBOLS), p.choice(_MODULES)
    return p.choice([
        f"{sym} raises TypeError when passed None. Please fix the bug in {mod}.",
        f"Issue: `{sym}` returns the wrong result for empty input. Reproduce it and fix it.",
        f"The {p.choice(_FIELDS)} field is ignored by {sym}; make it respect the setting and add a test.",
        f"Regression in {mod}: {sym} no longer handles unicode input.",
        f"Add a `--{p.choice(_FIELDS).replace('_', '-')}` option and document it.",
    ])
