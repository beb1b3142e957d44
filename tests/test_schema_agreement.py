"""The extractor's one-pass shape checks accept exactly what the shipped JSON Schema accepts."""
import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safefilter.errors import RecordError
from safefilter.normalize.extract import ShapeError, extract
from safefilter.schema import trajectory_schema, validate_record

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5))
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                         st.dictionaries(st.text(max_size=3), inner, max_size=2)),
                        max_leaves=4)


def maybe(strategy):
    """Mostly well-typed values, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, anything)


function = st.fixed_dictionaries({"name": maybe(st.text(max_size=6))},
                                 optional={"arguments": maybe(st.one_of(st.none(), st.text(max_size=20),
                                                                        st.dictionaries(st.sampled_from(["command", "code", "path", "content"]), st.text(max_size=10), max_size=2)))})
tool_call = st.fixed_dictionaries({"function": maybe(function)},
                                  optional={"id": maybe(st.one_of(st.none(), st.text(max_size=4), st.integers(0, 9))),
                                            "type": maybe(st.one_of(st.none(), st.just("function")))})
content = st.one_of(st.none(), st.text(max_size=10),
                    st.lists(st.one_of(st.text(max_size=5), st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=5)})), max_size=2))
message = st.fixed_dictionaries(
    {"role": maybe(st.sampled_from(["system", "user", "assistant", "tool"]))},
    optional={"content": maybe(content),
              "tool_calls": maybe(st.one_of(st.none(), st.lists(maybe(tool_call), max_size=2))),
              "tool_call_id": maybe(st.one_of(st.none(), st.text(max_size=3))),
              "function_call": maybe(st.one_of(st.none(), function))})
messages = st.lists(maybe(message), max_size=4)
chat = st.fixed_dictionaries({"messages": messages},
                             optional={"id": maybe(st.text(min_size=1, max_size=4)), "reward": anything})
swe_step = st.fixed_dictionaries({}, optional={k: maybe(st.one_of(st.none(), st.text(max_size=8)))
                                               for k in ("action", "observation", "thought")})
swe_steps = st.lists(maybe(swe_step), max_size=3)
swe = st.fixed_dictionaries({"trajectory": swe_steps},
                            optional={"history": maybe(st.lists(message, max_size=2)), "id": maybe(st.integers(0, 5))})
steps_step = st.fixed_dictionaries({}, optional={"action": maybe(st.one_of(st.none(), st.text(max_size=8), st.fixed_dictionaries({"tool": st.text(max_size=4)}))),
                                                 "observation": maybe(st.one_of(st.none(), st.text(max_size=8)))})
plain_steps = st.lists(maybe(steps_step), max_size=3)
steps = st.fixed_dictionaries({"steps": plain_steps},
                              optional={"task": maybe(st.text(max_size=8)), "id": maybe(st.text(min_size=1, max_size=3))})


def shape_or_not(strategy):
    """A trajectory list, or what else a shape key holds in the wild (a step count, null, a stray object)."""
    return st.one_of(strategy, strategy, st.none(), st.integers(0, 3), st.booleans(), st.text(max_size=3),
                     st.dictionaries(st.text(max_size=2), scalars, max_size=1))


# Records carrying several shapes at once (every one is scanned, so every one is checked).
mixed = st.fixed_dictionaries({}, optional={"messages": shape_or_not(messages), "trajectory": shape_or_not(swe_steps),
                                            "steps": shape_or_not(plain_steps), "task": maybe(st.text(max_size=4)),
                                            "history": maybe(st.lists(message, max_size=1)),
                                            "id": maybe(st.text(min_size=1, max_size=3))})
several = st.fixed_dictionaries({"messages": messages, "steps": plain_steps},
                                optional={"trajectory": swe_steps, "task": maybe(st.text(max_size=4))})
WHOLE_SCHEMA = jsonschema.Draft7Validator(trajectory_schema())


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(chat, swe, steps, mixed, several))
def test_extractor_and_schema_agree(record):
    try:
        validate_record(record)
        schema_ok = True
    except RecordError:
        schema_ok = False
    try:
        extract(record, "r")
        extractor_ok = True
    except (ShapeError, RecordError):
        extractor_ok = False
    whole_schema_ok = WHOLE_SCHEMA.is_valid(record)  # the shipped file on its own says the same
    assert extractor_ok == schema_ok == whole_schema_ok
