"""Generation and teacher-scoring engines for real-scale runs (vLLM). The HF paths in
`vold_train/rl.py` remain the default for CPU and small runs; these are drop-in replacements
behind the same two calls: rollouts (ids + log-probs) and teacher log-probs of a completion."""
