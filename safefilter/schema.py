"""Structural validation of input records against the JSON Schema shipped in the package.

The fast path uses a compiled validator (fastjsonschema) so validation costs little per record;
when a record fails, jsonschema re-checks it to produce the clearest message (the path of the
offending value and what was expected).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import fastjsonschema
import jsonschema

from .errors import RecordError
from .normalize.extract import detect_format

__all__ = ["validate_record", "trajectory_schema"]


@lru_cache(maxsize=1)
def trajectory_schema() -> dict[str, Any]:
    return json.loads(resources.files("safefilter").joinpath("schemas/trajectory.schema.json").read_text())


def _shape_schema(fmt: str) -> dict[str, Any]:
    schema = trajectory_schema()
    return {"$schema": schema["$schema"], "definitions": schema["definitions"], "$ref": f"#/definitions/{fmt}"}


@lru_cache(maxsize=None)
def _fast(fmt: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(_shape_schema(fmt))


@lru_cache(maxsize=None)
def _slow(fmt: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_shape_schema(fmt))


def validate_record(record: Any) -> str:
    """Check one record; return its format name or raise RecordError with a readable reason."""
    if not isinstance(record, dict):
        raise RecordError(f"record is a JSON {type(record).__name__}, expected an object")
    fmt = detect_format(record)
    try:
        _fast(fmt)(record)
    except fastjsonschema.JsonSchemaException as fast_error:
        err = jsonschema.exceptions.best_match(_slow(fmt).iter_errors(record))
        if err is None:
            raise RecordError(f"{fmt} record does not match the schema: {fast_error.message}") from None
        where = ".".join(str(p) for p in err.absolute_path) or "record"
        raise RecordError(f"{fmt} record: {where}: {err.message}") from None
    return fmt
