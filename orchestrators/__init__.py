"""Deterministic orchestrators (track, rollout, wave): they decide; activities act."""
