"""Implicit Language Q-Learning (ILQL; Snell, Kostrikov, Su, Yang, Levine 2022, "Offline RL for
Natural Language Generation with Implicit Language Q Learning", arXiv 2206.11871) for a chat LM.

The MDP is token level over whole dialogues: a state is the token prefix (system prompt, user
turns and the agent's words so far), an action is one token of an agent utterance; user turns are
the environment's move. The reward arrives at the last token of each agent utterance (the
episode's reward at its last agent utterance, 0 at the others, as in
:func:`dialogue_gym.export.utterance_transitions`). The discount ``gamma`` applies from one agent
utterance to the next and is 1 within an utterance.

Heads on the LM's last hidden state h(s): two Q heads ``Q_i(s, .)`` (one value per vocabulary
token), their Polyak-averaged targets ``Q^_i``, and ``V(s)``. With ``a`` the data's token and
``s'`` the state where the agent next acts, the losses of the paper (Sec. 4, "Implicit Language
Q-Learning") are

- Q:   ``L_Q = E[ sum_i (r + gamma V(s') - Q_i(s, a))^2 ]``, V(s') without gradient, 0 at the end;
- V:   ``L_V = E[ L2_tau(min_i Q^_i(s, a) - V(s)) ]``, ``L2_tau(u) = |tau - 1(u < 0)| u^2``
  (the expectile regression of IQL, Kostrikov et al. 2021);
- CQL: ``L_CQL = E[ sum_i log sum_a' exp Q_i(s, a') - Q_i(s, a) ]`` (the conservative term the
  paper adds, a cross-entropy with the Q values as logits);
- the LM's own negative log-likelihood on the agent's tokens, which keeps its logits the
  behaviour policy ``pi_beta``.

``L = L_Q + L_V + cql_weight * L_CQL + bc_weight * L_NLL``. Decoding (the paper's policy
extraction) samples from ``pi(a|s) ∝ pi_beta(a|s) exp(beta (min_i Q_i(s, a) - V(s)))``:
:func:`shift_logits` and :class:`ILQLBackend`.

Design choice: the paper trains ``pi_beta`` as a separate copy of the LM; here the heads and the
behaviour policy share one transformer (half the memory, the setting its released code also
offers). A saved ILQL folder is a transformers model folder plus ``ilql_heads.pt`` and
``ilql.json``; the ``ilql`` agent (``ilql:path=DIR,beta=4``) loads it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..episode import Episode
from ..errors import InvalidInput
from ..files import atomic_dir
from .learned import expectile_loss, polyak_update
from .lm_loading import chat_ids, fit_messages, write_lm

HEADS_FILE = "ilql_heads.pt"
CONFIG_FILE = "ilql.json"


@dataclass
class ILQLArgs:
    """ILQL hyperparameters."""

    steps: int = 100
    """Gradient steps."""
    batch_size: int = 4
    """Dialogues per step."""
    lr: float = 5e-5
    """AdamW learning rate of the transformer."""
    head_lr: float = 1e-3
    """AdamW learning rate of the Q and V heads."""
    gamma: float = 1.0
    """Discount from one agent utterance to the next (1: episodes are short and evaluation is
    undiscounted)."""
    expectile: float = 0.7
    """tau of the expectile loss of V."""
    cql_weight: float = 0.01
    """Weight of the conservative (CQL) term."""
    bc_weight: float = 1.0
    """Weight of the LM's negative log-likelihood on agent tokens."""
    polyak: float = 0.1
    """Rate of the target heads' moving average. Runs here are tens to hundreds of steps: at
    0.005 the targets of a 100-step run are still 61% their initialization (0.995^100) and the
    Bellman targets never reach the data's returns; at 0.1 they lag the online heads by about
    ten steps (0.9^10 = 0.35). Lower it for runs of many thousands of steps."""
    max_length: int = 1024
    """Tokens per dialogue. Longer dialogues lose their oldest messages (the system prompt stays;
    :func:`~.lm_loading.fit_messages`), and the agent's prompt is cut by the same rule when it
    speaks (``max_length`` minus the reply's token budget)."""
    seed: int = 0
    """Seed of the data order and head initialization."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0 or self.head_lr <= 0:
            raise InvalidInput("need steps, batch_size >= 1 and lr, head_lr > 0")
        if not 0 < self.expectile < 1:
            raise InvalidInput(f"expectile must be in (0, 1), got {self.expectile}")
        if not 0 <= self.gamma <= 1 or not 0 < self.polyak <= 1:
            raise InvalidInput("need 0 <= gamma <= 1 and 0 < polyak <= 1")
        if self.max_length < 16:
            raise InvalidInput(f"max_length must be >= 16, got {self.max_length}")


def _heads_module(hidden: int, vocab: int) -> Any:
    import torch
    from torch import nn

    class ILQLHeads(nn.Module):
        """Twin Q heads, their targets and a V head on the LM's last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            self.q = nn.ModuleList([nn.Linear(hidden, vocab) for _ in range(2)])
            self.q_target = nn.ModuleList([nn.Linear(hidden, vocab) for _ in range(2)])
            self.v = nn.Linear(hidden, 1)
            with torch.no_grad():  # Q and V start near 0; the twin Q heads start apart
                for head in [*self.q, self.v]:
                    head.weight.mul_(0.1)
                    head.bias.zero_()
            self.q_target.load_state_dict(self.q.state_dict())
            self.q_target.requires_grad_(False)

        def qs(self, h: torch.Tensor, target: bool = False) -> list[torch.Tensor]:
            """Both Q heads (or their targets) at hidden states ``h``: [..., vocab] each."""
            return [head(h) for head in (self.q_target if target else self.q)]

        def value(self, h: torch.Tensor) -> torch.Tensor:
            """V at hidden states ``h``: [...]."""
            return self.v(h).squeeze(-1)

        def advantage(self, h: torch.Tensor) -> torch.Tensor:
            """``min_i Q_i(s, .) - V(s)`` at hidden states ``h``: [..., vocab]."""
            q1, q2 = self.qs(h)
            return torch.minimum(q1, q2) - self.value(h)[..., None]

        def update_targets(self, rate: float) -> None:
            """Polyak step of the target Q heads toward the Q heads."""
            polyak_update(self.q, self.q_target, rate)

    return ILQLHeads()


def make_heads(model: Any) -> Any:
    """Fresh ILQL heads sized to ``model`` (on its device and dtype)."""
    cfg = model.config
    cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    p = next(model.parameters())
    return _heads_module(cfg.hidden_size, model.get_output_embeddings().weight.shape[0]).to(
        device=p.device, dtype=p.dtype
    )


def shift_logits(logits: Any, advantage: Any, beta: float) -> Any:
    """ILQL policy extraction: ``log pi_beta(a|s) + beta * (Q(s, a) - V(s))`` (unnormalized)."""
    import torch

    return torch.log_softmax(logits.float(), dim=-1) + beta * advantage.float()


def encode_dialogue(
    tokenizer: Any, messages: list[dict[str, str]], rewards: Sequence[float], max_length: int
) -> dict[str, list]:
    """One dialogue as a token sequence with, per token: whether it is an agent action, the reward
    at it, and the index of the next state's last token (-1: terminal).

    ``messages`` is the chat-model view (:func:`agents.prompting.chat_messages`); ``rewards`` has
    one entry per assistant message. Each agent utterance ends with the EOS token (added when
    the chat template does not emit it), so decoding learns where to stop.
    """
    eos = tokenizer.eos_token_id
    agent_at = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if len(rewards) != len(agent_at):
        raise InvalidInput(f"{len(rewards)} rewards for {len(agent_at)} agent utterances")
    ids: list[int] = []
    spans: list[tuple[int, int]] = []  # [start, end) of each utterance's action tokens
    covered: list[int] = []  # the template tokens of the conversation up to the last utterance
    for i in agent_at:
        prefix = chat_ids(tokenizer, messages[:i], True)
        full = chat_ids(tokenizer, messages[: i + 1])
        if full[: len(prefix)] != prefix or prefix[: len(covered)] != covered:
            raise InvalidInput(
                "the chat template does not extend the conversation; cannot mark turns"
            )
        ids += prefix[len(covered) :]
        action = full[len(prefix) :]
        if eos is not None and eos in action:
            cut = action.index(eos) + 1
            action, trail = action[:cut], action[cut:]
        else:
            action, trail = action + ([eos] if eos is not None else []), []
        spans.append((len(ids), len(ids) + len(action)))
        ids += action + trail
        covered = full
    n = len(ids)
    is_action = [False] * n
    reward = [0.0] * n
    next_state = [-1] * n
    for k, (a, b) in enumerate(spans):
        for t in range(a, b):
            is_action[t] = True
            next_state[t] = t  # the state before token t + 1 is the prefix up to t
        reward[b - 1] = float(rewards[k])
        next_state[b - 1] = spans[k + 1][0] - 1 if k + 1 < len(spans) else -1
    cut = max(0, n - max_length)
    if cut:  # a last resort (fit_dialogue cuts whole messages first): keep the end
        ids, is_action, reward = ids[cut:], is_action[cut:], reward[cut:]
        next_state = [s - cut if s >= 0 else -1 for s in next_state[cut:]]
        is_action[0] = False
    return {"input_ids": ids, "is_action": is_action, "reward": reward, "next_state": next_state}


def dialogue_records(episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    """Chat-model views and per-utterance rewards of the usable episodes (ok, with a reward)."""
    from ..domains import env_domain
    from .prompting import chat_messages

    out = []
    for e in episodes:
        if e.status != "ok" or e.reward is None or not e.agent_turns:
            continue
        n = len(e.agent_turns)
        rewards = [0.0] * (n - 1) + [float(e.reward)]
        out.append(
            {
                "messages": chat_messages(env_domain(e.env_id), e.messages),
                "rewards": rewards,
                "episode_id": e.id,
            }
        )
    return out


def fit_dialogue(
    tokenizer: Any, messages: list[dict[str, str]], rewards: Sequence[float], max_length: int
) -> tuple[list[dict[str, str]], list[float]]:
    """A dialogue (and its per-utterance rewards) cut to ``max_length`` tokens by the rule the
    agent's prompt follows when it speaks: the oldest messages go, the system prompt stays."""
    kept = fit_messages(tokenizer, messages, max_length)
    dropped = sum(m["role"] == "assistant" for m in messages) - sum(
        m["role"] == "assistant" for m in kept
    )
    return kept, list(rewards[dropped:])


def _batch(encoded: list[dict[str, list]], pad: int, device: Any) -> dict[str, Any]:
    import torch

    width = max(len(e["input_ids"]) for e in encoded)

    def col(key: str, fill: Any, dtype: Any) -> Any:
        rows = [e[key] + [fill] * (width - len(e[key])) for e in encoded]
        return torch.tensor(rows, dtype=dtype, device=device)

    mask = [[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"])) for e in encoded]
    return {
        "input_ids": col("input_ids", pad, torch.long),
        "attention_mask": torch.tensor(mask, dtype=torch.long, device=device),
        "is_action": col("is_action", False, torch.bool),
        "reward": col("reward", 0.0, torch.float32),
        "next_state": col("next_state", -1, torch.long),
    }


def ilql_losses(model: Any, heads: Any, batch: dict[str, Any], args: ILQLArgs) -> dict[str, Any]:
    """The four ILQL loss terms and their weighted sum on one padded batch (see the module)."""
    import torch
    import torch.nn.functional as F

    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        output_hidden_states=True,
    )
    hidden = out.hidden_states[-1]
    # action token t is chosen in the state whose last token is t - 1
    b, t = torch.nonzero(batch["is_action"][:, 1:], as_tuple=True)
    t = t + 1
    action = batch["input_ids"][b, t]
    h = hidden[b, t - 1]
    reward = batch["reward"][b, t]
    nxt = batch["next_state"][b, t]
    terminal = nxt < 0
    with torch.no_grad():
        v_next = heads.value(hidden[b, nxt.clamp(min=0)].detach()).float()
        v_next = torch.where(terminal, torch.zeros_like(v_next), v_next)
        same_utterance = nxt == t  # within an utterance: no discount, no reward
        discount = torch.where(
            same_utterance, torch.ones_like(v_next), torch.full_like(v_next, args.gamma)
        )
        y = reward + discount * v_next
        q_hat = torch.minimum(
            *[
                q.gather(1, action[:, None]).squeeze(1).float()
                for q in heads.qs(h.detach(), target=True)
            ]
        )
    qs = [q.float() for q in heads.qs(h)]
    q_taken = [q.gather(1, action[:, None]).squeeze(1) for q in qs]
    loss_q = sum(F.mse_loss(q, y) for q in q_taken)
    u = q_hat - heads.value(h).float()
    loss_v = expectile_loss(u, args.expectile)
    loss_cql = sum(F.cross_entropy(q, action) for q in qs)
    loss_nll = F.cross_entropy(out.logits[b, t - 1].float(), action)
    total = loss_q + loss_v + args.cql_weight * loss_cql + args.bc_weight * loss_nll
    return {"loss": total, "q": loss_q, "v": loss_v, "cql": loss_cql, "nll": loss_nll}


def train_ilql(
    model: Any,
    tokenizer: Any,
    records: Sequence[dict[str, Any]],
    args: ILQLArgs | None = None,
    heads: Any = None,
    progress: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Train ``model`` (in place) and ILQL heads on dialogue records (:func:`dialogue_records`).

    Returns the heads and a log: per-step loss terms, dialogues, action tokens, seconds.
    """
    import torch

    args = args or ILQLArgs()
    if not records:
        raise InvalidInput("no dialogues to train on (need episodes with status ok and a reward)")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    fitted = [
        fit_dialogue(tokenizer, r["messages"], r["rewards"], args.max_length) for r in records
    ]
    encoded = [encode_dialogue(tokenizer, m, rw, args.max_length) for m, rw in fitted if rw]
    encoded = [e for e in encoded if any(e["is_action"][1:])]
    if not encoded:
        raise InvalidInput("no agent tokens left after truncation; raise max_length")
    heads = heads if heads is not None else make_heads(model)
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    lm_params = [p for p in model.parameters() if p.requires_grad]
    head_params = [p for p in heads.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": lm_params, "lr": args.lr}, {"params": head_params, "lr": args.head_lr}]
    )
    model.train()
    log: dict[str, list[float]] = {k: [] for k in ("loss", "q", "v", "cql", "nll")}
    start = time.perf_counter()
    steps = range(args.steps)
    if progress:
        from ..progress import progress_bar

        steps = progress_bar(steps, desc="ilql", unit="step")
    for _ in steps:
        pick = rng.choice(len(encoded), size=min(args.batch_size, len(encoded)), replace=False)
        losses = ilql_losses(model, heads, _batch([encoded[i] for i in pick], pad, device), args)
        opt.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(lm_params + head_params, 1.0)
        opt.step()
        heads.update_targets(args.polyak)
        for k in log:
            log[k].append(float(losses[k].item()))
    model.eval()
    figures = {
        "dialogues": len(encoded),
        "action_tokens": int(sum(sum(e["is_action"][1:]) for e in encoded)),
        "seconds": time.perf_counter() - start,
    }
    return heads, {**log, **figures}


def save_ilql(
    path: str | Path, model: Any, tokenizer: Any, heads: Any, args: ILQLArgs, log: dict[str, Any]
) -> Path:
    """Write the LM (LoRA merged), tokenizer, heads and config into the folder ``path``."""
    import torch

    with atomic_dir(path) as tmp:
        write_lm(model, tokenizer, tmp)
        torch.save(heads.state_dict(), tmp / HEADS_FILE)
        figures = {k: v for k, v in log.items() if not isinstance(v, list)}
        last = {f"last_{k}": float(np.mean(v[-10:])) for k, v in log.items() if isinstance(v, list)}
        (tmp / CONFIG_FILE).write_text(
            json.dumps({"algo": "ilql", "args": asdict(args), **figures, **last}, indent=1)
        )
    return Path(path)


def saved_args(path: str | Path) -> ILQLArgs:
    """The training arguments saved beside an ILQL folder."""
    return ILQLArgs(**json.loads((Path(path) / CONFIG_FILE).read_text())["args"])


def load_ilql(path: str | Path, device: str = "cpu") -> tuple[Any, Any, Any]:
    """Model, tokenizer and heads saved by :func:`save_ilql`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / HEADS_FILE).is_file():
        raise InvalidInput(f"{path} is not an ILQL folder (no {HEADS_FILE})")
    model = AutoModelForCausalLM.from_pretrained(path).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    heads = make_heads(model)
    heads.load_state_dict(torch.load(path / HEADS_FILE, map_location=device, weights_only=True))
    return model, tokenizer, heads.eval()
