metadata description = 'The arcwave fleet operator custom role: only what arcwave does to clusters. Deployed at the scope of a fleet subscription.'

targetScope = 'subscription'

@description('Deterministic name (GUID) of the role definition.')
param roleGuid string

@description('Display name of the role; unique in the tenant.')
param roleName string

@description('Subscriptions (as /subscriptions/<id>) where the role can be assigned.')
param assignableScopes array

resource fleetOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleGuid
  properties: {
    roleName: roleName
    description: 'arcwave rolls Flux configurations out to Arc clusters: read connected clusters, read/write/delete fluxConfigurations and their async operation results, query Resource Graph.'
    type: 'customRole'
    permissions: [
      {
        actions: [
          'Microsoft.Kubernetes/connectedClusters/read'
          'Microsoft.KubernetesConfiguration/fluxConfigurations/read'
          'Microsoft.KubernetesConfiguration/fluxConfigurations/write'
          'Microsoft.KubernetesConfiguration/fluxConfigurations/delete'
          'Microsoft.KubernetesConfiguration/fluxConfigurations/operations/read'
          'Microsoft.ResourceGraph/resources/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output roleGuid string = fleetOperator.name
output id string = fleetOperator.id
