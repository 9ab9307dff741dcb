"""The embedded Durable Task engine: SQLite store, episode engine and the Durable HTTP API."""
