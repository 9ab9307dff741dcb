"""Activities: the only functions that touch the world, through `shared.adapters`."""
