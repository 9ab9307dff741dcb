"""Microsoft.KubernetesConfiguration/fluxConfigurations under a connected cluster."""
