"""What triggers, orchestrators and activities say to each other, in one home.

- `shared.contracts.orchestrations`: the orchestrators' names, the events raised to them,
  what they are started with and what they return;
- `shared.contracts.activities`: the activities' names, inputs and outputs, and the rollout's
  control block as the orchestrators read it.

All three layers import these modules and nothing here touches the world, so an orchestrator
that imports a contract never pulls in an adapter. Payloads are small JSON objects (ids,
names, counts) — never fleet lists — so histories stay small however large the fleet.
"""
