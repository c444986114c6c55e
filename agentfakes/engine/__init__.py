"""How an agent turn advances, with no HTTP and no bytes: runs, their store, subscriptions
and the script book that picks each turn's script (ARCHITECTURE.md, layer 2)."""

from agentfakes.engine.run import RunRecord, RunTiming
from agentfakes.engine.script_book import InputMatcher, ScriptBook, input_text
from agentfakes.engine.store import EngineSettings, RunStore
from agentfakes.engine.subscription import EMPTY, END, Subscription

__all__ = [
    "EMPTY",
    "END",
    "Empty",
    "EngineSettings",
    "InputMatcher",
    "RunRecord",
    "RunStore",
    "RunTiming",
    "ScriptBook",
    "Subscription",
    "input_text",
]
