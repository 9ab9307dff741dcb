"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources`` over a KQL subset."""
