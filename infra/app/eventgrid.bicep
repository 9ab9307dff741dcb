metadata description = 'Event Grid custom topic arcwave publishes its CloudEvents to (rollout, wave and cluster state changes). Publishing is Entra ID only.'

@description('Name of the topic.')
param name string

@description('Region of the topic.')
param location string

@description('Tags applied to the topic.')
param tags object

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

output name string = topic.name
output id string = topic.id
output endpoint string = topic.properties.endpoint
