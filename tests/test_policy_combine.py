"""policy.combine = rules_then_classifier: a confident rule verdict on an action stands, the classifier
fills the actions no rule judged, and it never removes a rule finding."""
from __future__ import annotations

import pytest

from safefilter import Policy, Scanner
from safefilter.config import resolve_config
from safefilter.errors import SafeFilterError
from safefilter.policy import COMBINE_MODES
from safefilter.types import Finding, Severity

from conftest import bash, traj
from keyword_classifier import KeywordClassifier

RTC = "rules_then_classifier"


def finding(detector: str, category: str = "tunneling", *, message: int = 2, call: str | None = "c1",
            severity: Severity = Severity.HIGH, requested: bool = False, rule_id: str | None = None) -> Finding:
    return Finding(category=category, subcategory="x", detector=detector, rule_id=rule_id or f"{detector}:x",
                   score=0.9, severity=severity, mitre=(), message_index=message, tool_call_id=call,
                   field="arguments.command", start=0, end=6, evidence="ssh -R 9:localhost:22 u@203.0.113.7",
                   requested=requested)


def test_the_classifier_adds_a_category_only_on_actions_no_rule_judged():
    rule = finding("rule", "tunneling", message=2)
    same_action = finding("classifier", "resource_acquisition", message=2)
    other_action = finding("classifier", "network_probing", message=4, call="c2")
    verdict = Policy(combine=RTC).decide([rule, same_action, other_action])
    assert verdict.categories == ("tunneling", "network_probing")
    assert same_action not in verdict.findings and rule in verdict.findings
    # `either` counts both classifier findings
    assert Policy(combine="either").decide([rule, same_action, other_action]).categories == (
        "tunneling", "network_probing", "resource_acquisition")


def test_a_tool_call_is_its_own_action_within_a_message():
    rule = finding("rule", "tunneling", message=2, call="c1")
    sibling = finding("classifier", "cryptomining", message=2, call="c2")
    assert Policy(combine=RTC).decide([rule, sibling]).categories == ("tunneling", "cryptomining")


def test_a_requested_rule_verdict_stands_against_the_classifier():
    """The rule recognised the action and judged it asked for: the classifier cannot make it unsafe."""
    rule = finding("rule", "tunneling", requested=True)
    clf = finding("classifier", "tunneling")
    assert not Policy(combine=RTC).decide([rule, clf]).unsafe
    assert Policy(combine="either").decide([rule, clf]).unsafe


def test_the_classifier_vetoes_nothing():
    rule = finding("rule", "network_probing")
    verdict = Policy(combine=RTC).decide([rule, finding("classifier", "network_probing", requested=True)])
    assert verdict.unsafe and verdict.categories == ("network_probing",) and rule in verdict.findings


def test_alone_the_classifier_counts_as_in_either():
    clf = finding("classifier", "cryptomining")
    assert Policy(combine=RTC).decide([clf]).unsafe
    assert not Policy(combine=RTC).decide([finding("classifier", "cryptomining", requested=True)]).unsafe


def test_a_rule_finding_below_min_severity_is_not_a_verdict():
    rule = finding("rule", "tunneling", severity=Severity.MEDIUM)
    clf = finding("classifier", "resource_acquisition", severity=Severity.HIGH)
    verdict = Policy(combine=RTC, min_severity=Severity.HIGH).decide([rule, clf])
    assert verdict.categories == ("resource_acquisition",)


def test_a_disabled_rule_is_not_a_verdict():
    rule = finding("rule", "tunneling", rule_id="noisy")
    clf = finding("classifier", "resource_acquisition")
    verdict = Policy(combine=RTC, disabled_rules=frozenset({"noisy"})).decide([rule, clf])
    assert verdict.categories == ("resource_acquisition",)


def test_every_mode_is_accepted_and_a_wrong_one_lists_them():
    for mode in COMBINE_MODES:
        assert resolve_config({"input": "x", "output": "y", "policy": {"combine": mode}})[0]["policy"]["combine"] == mode
    with pytest.raises(SafeFilterError) as info:
        resolve_config({"input": "x", "output": "y", "policy": {"combine": "rules_and_classifier"}})
    assert all(mode in str(info.value) for mode in COMBINE_MODES)
    with pytest.raises(ValueError, match="rules_then_classifier"):
        Policy(combine="both")


@pytest.fixture(scope="module")
def rules(scanner):
    return scanner.detectors


TUNNEL_TASK = "Set up a reverse SSH tunnel from this box to the bastion at 10.0.0.5 so CI can reach it"


@pytest.mark.parametrize("host, requested", [("10.0.0.5", True), ("203.0.113.7", False)])
def test_classifier_findings_are_judged_requested_per_action(rules, host, requested):
    """No rule knows `tunnelctl`; the scanner's per-action request check holds the classifier's finding
    to the host the task names, as it does rule findings."""
    clf = KeywordClassifier({"tunnelctl": ("tunneling", 0.9)}, gate="all")
    record = traj(bash(f"tunnelctl --remote {host}:22 --local 9000"), task=TUNNEL_TASK)
    verdict = Scanner([*rules, clf], Policy(combine=RTC)).scan(record)
    assert [(f.detector, f.requested) for f in verdict.findings] == [("classifier", requested)]
    assert verdict.unsafe is not requested


def test_on_a_rule_judged_action_the_classifier_finding_is_dropped(rules):
    clf = KeywordClassifier({"ssh -N -R": ("resource_acquisition", 0.9)}, gate="all")
    record = traj(bash("ssh -N -R 9000:localhost:22 ci@203.0.113.7"))
    found = {mode: Scanner([*rules, clf], Policy(combine=mode)).scan(record) for mode in ("either", RTC)}
    assert found["either"].categories == ("tunneling", "resource_acquisition")
    assert found[RTC].categories == ("tunneling",)
    assert {f.detector for f in found[RTC].findings} == {"rule"}
