"""Exceptions raised by invmgmt-marl. Both subclass ValueError so generic handlers still catch them."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file or scenario override is invalid. The message names the field and the value."""


class InvalidActionError(ValueError):
    """An action given to the environment is malformed (NaN, inf, wrong shape, unknown or missing agent)."""
