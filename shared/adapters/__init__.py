"""Adapters from the domain to the world: the fleet gateway (ARM + Resource Graph), the state
store (Cosmos DB or SQLite) and the event publisher (Event Grid). Only activities use them."""
