"""Composition roots and operator tools."""
