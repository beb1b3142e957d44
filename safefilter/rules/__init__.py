"""Rule packs and their matchers: text rules (`match:` / `sequence:`) read segments through the
`RuleEngine`; event rules (`event:`) read trajectory events through the `EventMatcher`. See
docs/rules.md."""
from .engine import RuleEngine
from .events import EventMatcher
from .model import EventCondition, FieldTest, Rule, RulePack, load_pack, load_packs, split_rules

__all__ = ["RuleEngine", "EventMatcher", "EventCondition", "FieldTest", "Rule", "RulePack", "load_pack",
           "load_packs", "split_rules"]
