"""Reading records into segments and seeing through disguises (static analysis only)."""
from .deobfuscate import Limits, derive, link_scripts, normalize_text
from .extract import Trajectory, detect_format, extract

__all__ = ["Limits", "Trajectory", "derive", "detect_format", "extract", "link_scripts", "normalize_text"]
