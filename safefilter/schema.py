"""Structural validation of input records against the JSON Schema shipped in the package.

`schemas/trajectory.schema.json` is the specification of what a readable record is. On the hot
path the extractor checks the same shape while it walks the record (one pass instead of two);
when it finds a mismatch, jsonschema checks the record against the schema to produce the message
(the path of the offending value and what was expected). tests/test_schema_agreement.py keeps
the extractor and the schema in agreement on generated records.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from .errors import RecordError
from .normalize.extract import ShapeError, Trajectory, detect_format, detect_formats, extract

__all__ = ["validate_record", "read_trajectory", "trajectory_schema"]


@lru_cache(maxsize=1)
def trajectory_schema() -> dict[str, Any]:
    return json.loads(resources.files("safefilter").joinpath("schemas/trajectory.schema.json").read_text())


@lru_cache(maxsize=None)
def _validator(fmt: str) -> jsonschema.Draft7Validator:
    schema = trajectory_schema()
    return jsonschema.Draft7Validator({"$schema": schema["$schema"], "definitions": schema["definitions"],
                                       "$ref": f"#/definitions/{fmt}"})


def _schema_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"record is a JSON {type(record).__name__}, expected an object"
    for fmt in detect_formats(record):  # every shape the record carries is read, so every one is checked
        err = jsonschema.exceptions.best_match(_validator(fmt).iter_errors(record))
        if err is not None:
            where = ".".join(str(p) for p in err.absolute_path) or "record"
            return f"{fmt} record: {where}: {err.message}"
    return None


def validate_record(record: Any) -> str:
    """Check one record against the schema; return its format (`chat`, `chat+steps`...) or raise RecordError."""
    problem = _schema_problem(record)
    if problem is not None:
        raise RecordError(problem)
    return detect_format(record)


def read_trajectory(record: Any, record_id: str) -> Trajectory:
    """Validate and extract in one pass; raises RecordError with the schema's reason."""
    if not isinstance(record, dict):
        raise RecordError(f"record is a JSON {type(record).__name__}, expected an object")
    try:
        return extract(record, record_id)
    except ShapeError:
        raise RecordError(_schema_problem(record) or "record does not match the trajectory schema") from None
