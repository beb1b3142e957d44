"""How a run's work is cut and carried out, apart from the run's bookkeeping (run.py).

    planner.py   input files -> work units (a file, or a byte range of a large JSONL file), numbered
    sink.py      one unit -> its shards in clean/ unsafe/ invalid/ and its completion record
    local.py     units one after another in this process
    ray.py       units as Ray tasks (actors with the classifier), each worker reading and writing its own
    scanners.py  the scanner a config describes, and the one per-process cache every runtime uses

Executors only map units to the sink; the sink alone writes, so every executor writes the same bytes.
Nothing here imports run.py, ray_run.py or hf.py.
"""
from .planner import WorkUnit, plan_units
from .sink import UnitOptions, process_unit

__all__ = ["WorkUnit", "plan_units", "UnitOptions", "process_unit"]
