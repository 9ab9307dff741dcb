"""Azure Monitor managed Prometheus' query API over the fleet's synthetic series."""
