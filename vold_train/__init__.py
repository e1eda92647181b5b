"""vold_train: the toy world, cold-start SFT, and GRPO + on-policy distillation."""
