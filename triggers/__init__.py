"""Triggers turn outside input (HTTP, Git webhooks, Event Grid, Flux events, timers) into
domain values and durable calls. Each module owns one `df.Blueprint`."""
