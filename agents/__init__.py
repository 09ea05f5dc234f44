"""Agents: the common interface (``base``) and registry (``registry``); reference agents (random,
scripted, human-like, oracle, model-based, human); prompted and fine-tuned language models
(``prompting``, ``lm``, ``sft``, ``dpo``, ``ilql``, ``rerank``); offline RL over strategies
(``bc``, ``cql``, ``iql``, with ``offline_data`` and ``encoders``); online RL (``ppo``, ``sb3``)."""
