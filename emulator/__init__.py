"""A local stand-in for the Azure side of arcwave.

It serves the ARM ``connectedClusters`` and ``fluxConfigurations`` endpoints, Resource Graph and
a Key Vault's secrets over TLS, simulates Flux reconciling every cluster of a scenario fleet
(private sources included), and injects faults.
Run it with ``python -m emulator --scenario FILE``; drive it from tests with
:class:`emulator.testing.Emulator` (in-process) or :class:`emulator.process.EmulatorProcess`
(a child process).
"""
