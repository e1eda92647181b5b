"""vold_train: teacher traces, cold-start SFT, GRPO + on-policy distillation, and the toy models."""
