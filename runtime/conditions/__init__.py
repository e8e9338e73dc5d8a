"""Termination conditions: when a team run should stop.

A condition is called by the team with each *delta* (the task messages, then every turn's
events and chat message), in order. It returns a :class:`StopMessage` when the run should
stop and ``None`` otherwise. Conditions combine with ``|`` (either fires) and ``&`` (all
have fired, possibly on different deltas). Teams reset them when a run ends, so each run
counts afresh; ``save_state()`` / ``load_state()`` carry counters across a checkpoint.

``TimeoutTermination`` is special in two ways: its clock starts when a run starts
(:meth:`TerminationCondition.start`), and it exposes a :attr:`TerminationCondition.deadline`
that the team enforces with a timer, so it also ends a run stuck inside a long agent turn.

The protocol and its combinations live in :mod:`.base`; budgets (messages, tokens, time,
money) in :mod:`.limits`; single-message matches in :mod:`.matches`; conditions the
caller decides in :mod:`.external`.
"""

from runtime.conditions.base import (
    AndTerminationCondition,
    OrTerminationCondition,
    TerminationCondition,
)
from runtime.conditions.external import ExternalTermination, FunctionalTermination
from runtime.conditions.limits import (
    CostTermination,
    MaxMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)
from runtime.conditions.matches import (
    FunctionCallTermination,
    HandoffTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
)

__all__ = [
    "AndTerminationCondition",
    "CostTermination",
    "ExternalTermination",
    "FunctionCallTermination",
    "FunctionalTermination",
    "HandoffTermination",
    "MaxMessageTermination",
    "OrTerminationCondition",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TerminationCondition",
    "TextMentionTermination",
    "TextMessageTermination",
    "TimeoutTermination",
    "TokenUsageTermination",
]
