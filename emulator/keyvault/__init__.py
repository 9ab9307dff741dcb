"""A Key Vault stand-in: ``GET /secrets/{name}[/{version}]`` with Key Vault's challenge auth."""
