metadata description = 'Cosmos DB for NoSQL (serverless, Entra ID only) with the arcwave database and its containers.'

@description('Name of the Cosmos DB account.')
param name string

@description('Region of the account.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Database name; the app reads it from ARCWAVE_COSMOS_DATABASE.')
param databaseName string

@description('Seconds a timeline entry lives before Cosmos DB expires it.')
@minValue(3600)
param timelineTtlSeconds int

@description('Seconds a delivery id (webhook or event dedupe record) lives.')
@minValue(3600)
param deliveriesTtlSeconds int

var hashKey = {
  kind: 'Hash'
  version: 2
}

var containers = [
  {
    id: 'tracks'
    partitionKey: union(hashKey, {
      paths: [
        '/id'
      ]
    })
  }
  {
    id: 'rollouts'
    partitionKey: union(hashKey, {
      paths: [
        '/track'
      ]
    })
  }
  {
    id: 'clusters'
    partitionKey: union(hashKey, {
      paths: [
        '/track'
      ]
    })
  }
  {
    id: 'timeline'
    partitionKey: union(hashKey, {
      paths: [
        '/rolloutId'
      ]
    })
    defaultTtl: timelineTtlSeconds
  }
  {
    id: 'deliveries'
    partitionKey: union(hashKey, {
      paths: [
        '/source'
      ]
    })
    defaultTtl: deliveriesTtlSeconds
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.id
    properties: {
      resource: container
    }
  }
]

output accountName string = account.name
output accountId string = account.id
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
