metadata description = 'Assigns the arcwave fleet operator role to the app identity on a whole fleet subscription.'

targetScope = 'subscription'

@description('Object id of the app\'s user-assigned identity.')
param principalId string

@description('GUID of the fleet operator role definition.')
param roleGuid string

resource fleetOperatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'arcwave: roll Flux configurations out to the Arc clusters of this subscription'
  }
}
