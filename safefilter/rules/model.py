"""Rule packs: YAML files validated against a JSON Schema and turned into `Rule` values.

Errors name the file and the rule id, and say what was expected, so a rule author can fix a
pack without reading engine code.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import jsonschema
import re2
import yaml

from ..errors import RuleError
from ..types import CATEGORIES, Severity

__all__ = ["Condition", "FieldTest", "EventCondition", "Rule", "RulePack", "load_pack", "load_packs",
           "builtin_pack_paths", "split_rules", "DEFAULT_APPLIES_TO", "MODIFIERS"]

DEFAULT_APPLIES_TO: tuple[str, ...] = ("shell", "code", "file", "args")


@dataclass(frozen=True, slots=True)
class Condition:
    """One match block, on one segment: every `all`, at least one `any` (when given), no `not` on
    the line of the match, no `not_anywhere` anywhere in the segment."""

    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    not_: tuple[str, ...] = ()
    not_anywhere: tuple[str, ...] = ()


MODIFIERS = ("equals", "contains", "startswith", "endswith", "re", "cidr")


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One `field|modifier: values` entry of an event rule; holds when any value matches.

    `pattern` is the RE2 search pattern the matcher puts in the field's Set (None for `cidr`,
    which is checked with `ipaddress` on the normalised host): literal modifiers are escaped and
    anchored, so every test except `cidr` costs nothing beyond the one Set match per field.
    """

    field: str
    modifier: str
    values: tuple[str, ...]

    @property
    def pattern(self) -> str | None:
        if self.modifier == "cidr":
            return None
        if self.modifier == "re":
            return "(?i)" + "|".join(f"(?:{v})" for v in self.values)
        body = "|".join(re2.escape(v) for v in self.values)
        return "(?i)" + {"equals": "^(?:{})$", "contains": "(?:{})", "startswith": "^(?:{})",
                         "endswith": "(?:{})$"}[self.modifier].format(body)


@dataclass(frozen=True, slots=True)
class EventCondition:
    """The `event:` block of a rule: the event kind, then tests in the Sigma/Falco spirit.

    Holds for an event of `kind` when every `all` test holds, at least one `any` group holds (when
    there are any), and no `not` group holds; a group holds when all its tests hold.
    """

    kind: str
    all: tuple[FieldTest, ...] = ()
    any: tuple[tuple[FieldTest, ...], ...] = ()
    not_: tuple[tuple[FieldTest, ...], ...] = ()

    def tests(self) -> tuple[FieldTest, ...]:
        return (*self.all, *(t for g in self.any for t in g), *(t for g in self.not_ for t in g))


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    category: str
    subcategory: str
    mitre: tuple[str, ...]
    severity: Severity
    status: str
    applies_to: tuple[str, ...]
    steps: tuple[Condition, ...]  # one step for a plain rule; several for a sequence rule
    requested_when: tuple[str, ...]
    examples: dict[str, list[Any]] = field(compare=False, hash=False)
    source: str = ""
    event: EventCondition | None = None  # set for an event rule (then `steps` is empty)

    @property
    def is_sequence(self) -> bool:
        return len(self.steps) > 1

    @property
    def is_event(self) -> bool:
        return self.event is not None


def split_rules(rules: Sequence[Rule]) -> tuple[list[Rule], list[Rule]]:
    """(text rules, event rules): the RuleEngine matches the first, the EventMatcher the second."""
    return [r for r in rules if r.event is None], [r for r in rules if r.event is not None]


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    path: str
    sha256: str
    rules: tuple[Rule, ...]
    description: str = ""


def _schema() -> dict[str, Any]:
    text = resources.files("safefilter").joinpath("schemas/rule-pack.schema.json").read_text()
    return json.loads(text)


_VALIDATOR: jsonschema.Draft7Validator | None = None


def _validator() -> jsonschema.Draft7Validator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = jsonschema.Draft7Validator(_schema())
    return _VALIDATOR


def builtin_pack_paths() -> list[Path]:
    packs = resources.files("safefilter").joinpath("rules/packs")
    return sorted(Path(str(p)) for p in packs.iterdir() if p.name.endswith((".yaml", ".yml")))


def _check_regex(pattern: str, path: str, rule_id: str, *, text_rule: bool = True) -> None:
    try:
        re2.compile(pattern)
    except re2.error as exc:
        raise RuleError(f"pattern {pattern!r} is not valid RE2 ({exc}); RE2 has no lookarounds or "
                        "backreferences", path=path, rule_id=rule_id) from None
    if text_rule and ("\\A" in pattern or "\\z" in pattern):
        raise RuleError(f"pattern {pattern!r} uses \\A or \\z; use ^ and $ (line anchors)", path=path,
                        rule_id=rule_id)


_MACRO_REF = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")


def _expand(pattern: str, macros: dict[str, str], path: str, rule_id: str) -> str:
    """Replace {{name}} with the pack's macro, as a non-capturing group."""
    if "{{" not in pattern:
        return pattern

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in macros:
            raise RuleError(f"pattern uses undefined macro {{{{{m.group(1)}}}}}; define it under `macros:`",
                            path=path, rule_id=rule_id)
        return "(?:" + macros[m.group(1)] + ")"

    return _MACRO_REF.sub(sub, pattern)


def _condition(block: dict[str, Any], path: str, rule_id: str, macros: dict[str, str]) -> Condition:
    def expand(patterns: list[str]) -> tuple[str, ...]:
        return tuple(_expand(p, macros, path, rule_id) for p in patterns)

    any_ = expand(block.get("any", [])) + tuple(re2.escape(k) for k in block.get("keywords", []))
    cond = Condition(any_, expand(block.get("all", [])), expand(block.get("not", [])),
                     expand(block.get("not_anywhere", [])))
    for pattern in (*cond.any, *cond.all, *cond.not_, *cond.not_anywhere):
        _check_regex(pattern, path, rule_id)
    return cond


def _values(raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    return tuple(("true" if v else "false") if isinstance(v, bool) else str(v) for v in items)


def _field_test(key: str, raw: Any, kind: str, path: str, rule_id: str, macros: dict[str, str]) -> FieldTest:
    """One `field|modifier` entry, checked against the fields of the event kind."""
    from .fields import CIDR_FIELDS, FIELDS

    name, bar, modifier = key.partition("|")
    if name not in FIELDS[kind]:
        raise RuleError(f"event key {key!r}: {kind} events have no field {name!r}; fields: "
                        f"{', '.join(FIELDS[kind])}", path=path, rule_id=rule_id)
    if bar and modifier not in MODIFIERS[1:]:
        raise RuleError(f"event key {key!r}: unknown modifier {modifier!r}; modifiers: "
                        f"{', '.join('|' + m for m in MODIFIERS[1:])} (none means equals)", path=path, rule_id=rule_id)
    modifier = modifier or "equals"
    values = _values(raw)
    if not values or any(v == "" for v in values):
        raise RuleError(f"event key {key!r}: needs one or more non-empty values", path=path, rule_id=rule_id)
    if modifier == "cidr":
        if name not in CIDR_FIELDS:
            raise RuleError(f"event key {key!r}: |cidr applies to {', '.join(sorted(CIDR_FIELDS))} only",
                            path=path, rule_id=rule_id)
        for v in values:
            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError:
                raise RuleError(f"event key {key!r}: {v!r} is not a CIDR block", path=path, rule_id=rule_id) from None
    if modifier == "re":
        values = tuple(_expand(v, macros, path, rule_id) for v in values)
        for v in values:
            _check_regex(v, path, rule_id, text_rule=False)  # ^ and $ already anchor the whole value
    return FieldTest(name, modifier, values)


def _event_condition(block: dict[str, Any], path: str, rule_id: str, macros: dict[str, str]) -> EventCondition:
    kind = block["kind"]

    def group(tests: dict[str, Any]) -> tuple[FieldTest, ...]:
        return tuple(_field_test(k, v, kind, path, rule_id, macros) for k, v in tests.items())

    return EventCondition(kind, group(block.get("all", {})), tuple(group(g) for g in block.get("any", [])),
                          tuple(group(g) for g in block.get("not", [])))


def load_pack(path: str | Path) -> RulePack:
    """Load and validate one rule pack file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"cannot read rule pack: {exc.strerror}", path=str(path)) from None
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        from ..config import yaml_problem

        raise RuleError(f"rule pack is not valid YAML: {yaml_problem(exc)}", path=str(path)) from None
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        rule_id = None
        if isinstance(doc, dict) and len(err.absolute_path) >= 2 and err.absolute_path[0] == "rules":
            try:
                rule_id = doc["rules"][err.absolute_path[1]].get("id")
            except (IndexError, AttributeError, TypeError):
                pass
        raise RuleError(f"invalid rule pack at {where}: {err.message}", path=str(path), rule_id=rule_id)
    pack_category = doc.get("category") or (doc["pack"] if doc["pack"] in CATEGORIES else None)
    macros = doc.get("macros", {})
    pack_requested = tuple(_expand(p, macros, str(path), "requested_when") for p in doc.get("requested_when", []))
    for pattern in pack_requested:
        _check_regex(pattern, str(path), "requested_when")
    rules = []
    seen: set[str] = set()
    for spec in doc["rules"]:
        rule_id = spec["id"]
        if rule_id in seen:
            raise RuleError("duplicate rule id", path=str(path), rule_id=rule_id)
        seen.add(rule_id)
        category = spec.get("category") or pack_category
        if category is None:
            raise RuleError("rule has no category and the pack name is not a category; add `category:`",
                            path=str(path), rule_id=rule_id)
        event = None
        if "event" in spec:
            steps: tuple[Condition, ...] = ()
            event = _event_condition(spec["event"], str(path), rule_id, macros)
        else:
            blocks = spec["sequence"] if "sequence" in spec else [spec["match"]]
            steps = tuple(_condition(b, str(path), rule_id, macros) for b in blocks)
        own_requested = tuple(_expand(p, macros, str(path), rule_id) for p in spec.get("requested_when", []))
        requested = pack_requested + own_requested
        for pattern in own_requested:
            _check_regex(pattern, str(path), rule_id)
        rules.append(Rule(
            id=rule_id, title=spec["title"], category=category, subcategory=spec["subcategory"],
            mitre=tuple(spec["mitre"]), severity=Severity.parse(spec["severity"]),
            status=spec.get("status", "stable"), applies_to=tuple(spec.get("applies_to", DEFAULT_APPLIES_TO)),
            steps=steps, requested_when=requested, examples=spec["examples"], source=str(path), event=event,
        ))
    return RulePack(doc["pack"], str(path), hashlib.sha256(raw).hexdigest(), tuple(rules), doc.get("description", ""))


def load_packs(paths: list[str | Path]) -> list[RulePack]:
    """Load packs; `builtin` stands for the packs shipped with safefilter. Ids must be unique.

    An entry that does not exist, or a folder without `*.yaml` / `*.yml` files, is a RuleError
    naming it: a mistyped path must not quietly load no rules and pass every record as clean.
    """
    files: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if str(entry) == "builtin":
            files.extend(builtin_pack_paths())
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
            if not found:
                raise RuleError("rules.packs names a folder with no rule packs (*.yaml or *.yml files) in it; "
                                "point it at the folder that holds your packs", path=str(entry))
            files.extend(found)
        elif not path.exists():
            raise RuleError("rules.packs names a path that does not exist; check the path, or use `builtin` "
                            "for the shipped packs", path=str(entry))
        else:
            files.append(path)
    if not files:
        raise RuleError("rules.packs names no rule packs; use `builtin` and/or paths to pack files or folders")
    unique = list(dict.fromkeys(p.resolve() for p in files))  # a pack named twice loads once
    packs = [load_pack(p) for p in unique]
    owner: dict[str, str] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.id in owner and owner[rule.id] != pack.path:
                raise RuleError(f"rule id also defined in {owner[rule.id]}", path=pack.path, rule_id=rule.id)
            owner[rule.id] = pack.path
    return packs
