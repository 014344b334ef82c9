"""Plugins the core tests load through NIMABENCH_PLUGIN_MODULES (so the runner's children see them too)."""
