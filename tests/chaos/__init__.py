"""The chaos suite: rollouts over a 200-cluster fleet while the world misbehaves.

devhost is SIGKILLed and restarted on the same state, ARM answers bursts of 5xx and storms of
429, clusters flap offline, the emulator restarts on its persisted state, and pushes are
re-delivered; afterwards every promise of docs/reliability.md is checked from the outside.

    .venv/bin/python -m tests.chaos [--size default|short] [--seed N] [--runs N]   # make chaos
    tests/chaos/test_chaos.py                                                      # make test
"""
