"""Optimization techniques applied for real; see :mod:`bench.techniques.registry`."""
from bench.techniques.registry import Outcome, Param, PipelineState, Technique, get_technique, register_technique, techniques

__all__ = ["Outcome", "Param", "PipelineState", "Technique", "get_technique", "register_technique", "techniques"]
