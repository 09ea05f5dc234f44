"""Agents by name: ``make_agent("scripted:noise=0.2", "persuasion")``.

A spec is a registered name, optionally followed by ``:key=value,key=value`` options passed to
the agent's constructor (values parse as bool, int, float or str). A user's own agent needs no
registration: ``my_pkg.my_module:MyAgent`` or ``path/to/file.py:MyAgent``, then the options as for
a built-in (``my_pkg.agents:Greedy:temperature=0.5``). The object named is called with
``domain=`` (if it takes it) and the options, and must return an :class:`~.base.Agent`; such an
agent is never privileged (it never receives the simulator's hidden persona).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from .base import Agent


@dataclass(frozen=True)
class AgentEntry:
    """A registered agent: how to build it, one line about it, and what it needs."""

    name: str
    factory: Callable[..., Agent]
    description: str
    privileged: bool = False
    """True if it reads the simulator's hidden state (never allowed against an LLM user)."""


_REGISTRY: dict[str, AgentEntry] = {}


def register_agent(
    name: str, factory: Callable[..., Agent], description: str, privileged: bool = False
) -> None:
    """Register ``factory(domain, **options) -> Agent`` under ``name``."""
    _REGISTRY[name] = AgentEntry(name, factory, description, privileged)


def agent_entries() -> list[AgentEntry]:
    """Every registered agent, in registration order."""
    _register_builtins()
    return list(_REGISTRY.values())


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:k=v,k2=v2"`` into the name and its options (for an import path, the name is
    ``module:Object``)."""
    name, _, rest = spec.partition(":")
    if is_import_spec(spec):
        attr, _, rest = rest.partition(":")
        name = f"{name}:{attr}"
    options: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise InvalidInput(f"bad agent option {part!r} in {spec!r}; expected key=value")
        options[key.strip()] = _parse_value(value.strip())
    return name.strip(), options


def is_import_spec(spec: str) -> bool:
    """True if ``spec`` names a user's agent by import path (``module:Object``,
    ``file.py:Object``) rather than a registered name."""
    head = spec.partition(":")[0]
    return "." in head or _is_file_path(head)


def _is_file_path(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def _import_object(module: str, attr: str) -> Any:
    import importlib
    import importlib.util
    import os
    import sys

    if _is_file_path(module):
        path = Path(module).resolve()
        if not path.is_file():
            raise InvalidInput(f"agent file {module!r} not found")
        mod_name = f"dialogue_gym_user_{path.stem}_{abs(hash(str(path))) % 10**8}"
        if mod_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            if spec is None or spec.loader is None:
                raise InvalidInput(f"cannot import {module!r} as a Python file")
            mod = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = mod
            spec.loader.exec_module(mod)
        mod = sys.modules[mod_name]
    else:
        if os.getcwd() not in sys.path:  # a module beside the user, as `python -c` would see it
            sys.path.append(os.getcwd())
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise InvalidInput(f"cannot import agent module {module!r}: {e}") from None
    if not hasattr(mod, attr):
        raise InvalidInput(f"{module!r} has no {attr!r}")
    return getattr(mod, attr)


def make_imported_agent(spec: str, domain: str, **options: Any) -> Agent:
    """Build a user's agent named by import path (see the module docstring)."""
    import inspect

    target, parsed = parse_spec(spec)
    module, _, attr = target.partition(":")
    if not attr.strip():
        raise InvalidInput(
            f"agent {spec!r}: expected MODULE:OBJECT or FILE.py:OBJECT, then :key=value options"
        )
    factory = _import_object(module.strip(), attr.strip())
    kwargs = {**parsed, **options}
    try:
        params = inspect.signature(factory).parameters
        if "domain" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
            kwargs["domain"] = domain
    except (TypeError, ValueError):
        kwargs["domain"] = domain
    try:
        agent = factory(**kwargs)
    except TypeError as e:
        raise InvalidInput(f"bad options for agent {spec!r}: {e}") from None
    if not (callable(getattr(agent, "act", None)) and callable(getattr(agent, "reset", None))):
        raise InvalidInput(f"{spec!r} did not give an agent (an object with act() and reset())")
    if getattr(agent, "privileged", False):
        raise InvalidInput(
            f"{spec!r} says privileged = True: an agent loaded by import path never receives "
            "the simulator's hidden persona"
        )
    if not getattr(agent, "name", None) or agent.name == Agent.name:
        agent.name = attr.strip()
    return agent


def make_agent(spec: str, domain: str, **options: Any) -> Agent:
    """Build the agent that ``spec`` names for ``domain`` (a registered name or an import path)."""
    _register_builtins()
    if is_import_spec(spec):
        return make_imported_agent(spec, domain, **options)
    name, parsed = parse_spec(spec)
    if name not in _REGISTRY:
        raise InvalidInput(
            f"unknown agent {name!r}; registered: {', '.join(_REGISTRY)}; or your own as "
            "module:Object or file.py:Object"
        )
    try:
        return _REGISTRY[name].factory(domain, **{**parsed, **options})
    except TypeError as e:
        raise InvalidInput(f"bad options for agent {name!r}: {e}") from None


def is_privileged(spec: str) -> bool:
    """True if the agent ``spec`` names reads the simulator's hidden state."""
    _register_builtins()
    name, _ = parse_spec(spec)
    return name in _REGISTRY and _REGISTRY[name].privileged


def _register_builtins() -> None:
    if "random" in _REGISTRY:
        return
    from .human import HumanAgent
    from .oracle import OracleAgent
    from .scripted import HUMAN_LIKE_NOISE, RandomAgent, ScriptedAgent

    register_agent("random", RandomAgent, "a uniformly random strategy each turn, worded")
    register_agent("scripted", ScriptedAgent, "the domain's expert flow (options: noise, reactive)")
    register_agent(
        "human-like",
        lambda domain, **kw: ScriptedAgent(domain, **{"noise": HUMAN_LIKE_NOISE, **kw}),
        f"the behaviour policy: reactive scripted agent with noise {HUMAN_LIKE_NOISE}",
    )
    register_agent(
        "corpus-mix",
        _lazy("corpus_mix", "CorpusMixAgent"),
        "the real corpora's strategy shares at each turn, worded; no reaction (the narrow "
        "behaviour regime)",
    )
    register_agent(
        "oracle",
        OracleAgent,
        "knows the hidden persona, plans on a copy of the simulator (upper bound)",
        privileged=True,
    )
    register_agent(
        "model-based",
        _lazy("model_based", "ModelBasedAgent"),
        "model-based: knows the dynamics, not the persona (plans over personas inferred from "
        "the transcript; option samples)",
    )
    register_agent("human", HumanAgent, "a person typing in the terminal")
    register_agent(
        "prompting",
        _lazy("prompting", "PromptingAgent"),
        "a chat model prompted with the task (option llm=SPEC, e.g. local:smollm2)",
    )
    register_agent(
        "lm",
        _lazy("lm", "LMAgent"),
        "a local transformers causal LM with a chat template: lm:path=DIR",
    )
    register_agent(
        "ilql",
        _lazy("ilql_agent", "ILQLAgent"),
        "an ILQL-trained LM decoding with logits + beta*(Q-V): ilql:path=DIR,beta=1",
    )
    register_agent(
        "rerank",
        _lazy("rerank", "RerankAgent"),
        "best of k replies of a chat model by an utterance critic: rerank:llm=SPEC,critic=DIR,k=4",
    )
    register_agent(
        "learned",
        _lazy("learned", "load_agent", path_first=True),
        "a trained checkpoint (bc, filtered-bc, cql, iql, ppo): learned:path=DIR",
    )
    register_agent(
        "procot",
        _lazy("prompting", "ProCoTAgent"),
        "plan a strategy (JSON), then speak; ProCoT (option llm=SPEC)",
    )


def _lazy(module: str, cls: str, path_first: bool = False) -> Callable[..., Agent]:
    """A factory that imports ``agents.<module>.<cls>`` only when called."""

    def factory(domain: str, **options: Any) -> Agent:
        import importlib

        fn = getattr(importlib.import_module(f"{__package__}.{module}"), cls)
        if path_first:
            if "path" not in options:
                raise TypeError("missing option path=DIR")
            return fn(options.pop("path"), domain, **options)
        return fn(domain, **options)

    return factory


def needs_llm(spec: str) -> bool:
    """True if the agent ``spec`` names is played by a chat model (takes ``llm=``)."""
    return parse_spec(spec)[0] in ("prompting", "procot", "rerank")
