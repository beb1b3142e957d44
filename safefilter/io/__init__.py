"""Reading inputs and writing the run directory."""
from .readers import (INPUT_SUFFIXES, InputRecord, count_newlines, expand_inputs, read_file, read_jsonl_range,
                      splittable)
from .writers import OUTPUT_KINDS, ShardWriter, invalid_row, unsafe_bytes

__all__ = ["INPUT_SUFFIXES", "InputRecord", "expand_inputs", "read_file", "read_jsonl_range", "count_newlines",
           "splittable", "OUTPUT_KINDS", "ShardWriter", "invalid_row", "unsafe_bytes"]
