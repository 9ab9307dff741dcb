"""Microsoft.Kubernetes/connectedClusters: get and list (by resource group, by subscription)."""
