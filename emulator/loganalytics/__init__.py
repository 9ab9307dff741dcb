"""Log Analytics' query API over the fleet's synthetic Container insights data."""
