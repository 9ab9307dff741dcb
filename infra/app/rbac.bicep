metadata description = 'Every role assignment arcwave needs, in one place: data-plane roles on the resources of this resource group, and the fleet operator custom role on the fleet subscriptions and resource groups.'

@description('Object id of the app\'s user-assigned identity.')
param principalId string

@description('Storage account of the Functions host.')
param storageAccountName string

@description('Durable backend; the Azure Storage backend also needs queues and tables.')
@allowed([
  'DurableTaskScheduler'
  'AzureStorage'
])
param durableBackend string

@description('Durable Task Scheduler name (DurableTaskScheduler backend only).')
param schedulerName string

@description('Cosmos DB account.')
param cosmosAccountName string

@description('Cosmos DB database the app may read and write.')
param cosmosDatabaseName string

@description('Key Vault holding the webhook and Flux HMAC secrets and the Flux source credentials tracks reference.')
param keyVaultName string

@description('Event Grid custom topic the app publishes to.')
param eventGridTopicName string

@description('Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Function app the deployer publishes to.')
param functionAppName string

@description('Object id of the pipeline identity that publishes the code; empty assigns nothing.')
param deployerPrincipalId string

@description('Type of the deployer principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param deployerPrincipalType string

@description('Fleet subscriptions (ids) where the app manages every Arc cluster.')
param fleetSubscriptionIds array

@description('Fleet resource groups (resource ids) where the app manages the Arc clusters.')
param fleetResourceGroupIds array

@description('Display name of the fleet operator custom role; unique in the tenant.')
param fleetRoleName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  websiteContributor: 'de139f84-1756-47ae-9be6-808fbbe84772'
  cosmosBuiltInDataContributor: '00000000-0000-0000-0000-000000000002'
}

var useScheduler = durableBackend == 'DurableTaskScheduler'
var fleetRgSubscriptionIds = [for id in fleetResourceGroupIds: split(id, '/')[2]]
var fleetSubscriptions = union(fleetSubscriptionIds, fleetRgSubscriptionIds)
var fleetAssignableScopes = [for sub in fleetSubscriptions: '/subscriptions/${sub}']
var fleetRoleGuid = guid(fleetRoleName)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' existing = if (useScheduler) {
  name: schedulerName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: eventGridTopicName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Storage Blob Data Owner: host keys, leases and the Flex Consumption deployment package.
resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor: Durable control and work-item queues (Azure Storage backend only).
resource storageQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!useScheduler) {
  name: guid(storage.id, principalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor: Durable history and instance tables (Azure Storage backend only).
resource storageTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!useScheduler) {
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Durable Task Data Contributor: run and manage orchestrations in the scheduler's task hubs.
resource durableTaskContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useScheduler) {
  name: guid(scheduler.id, principalId, roles.durableTaskDataContributor)
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// EventGrid Data Sender: publish arcwave CloudEvents to the custom topic.
resource eventGridSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, roles.eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User: resolve the Key Vault references of the app settings, and read the Flux source
// credentials a track names ({secret: ...}) when a configuration is written (ARCWAVE_KEYVAULT_URL).
resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher: send telemetry with Entra ID (local auth is off on App Insights).
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Website Contributor on the app only: the pipeline publishes code with Entra ID, no publish profile.
resource deployerWebsiteContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(site.id, deployerPrincipalId, roles.websiteContributor)
  scope: site
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.websiteContributor)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

// Cosmos DB Built-in Data Contributor (data plane), limited to the arcwave database.
resource cosmosDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, roles.cosmosBuiltInDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${roles.cosmosBuiltInDataContributor}'
    principalId: principalId
    scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'
  }
}

// arcwave fleet operator (custom): defined once, in the first fleet subscription.
module fleetRole 'fleet-role.bicep' = {
  name: 'arcwave-fleet-role-${uniqueString(fleetRoleName)}'
  scope: subscription(first(fleetSubscriptions))
  params: {
    roleGuid: fleetRoleGuid
    roleName: fleetRoleName
    assignableScopes: fleetAssignableScopes
  }
}

// arcwave fleet operator on each whole fleet subscription.
module fleetSubscriptionAccess 'fleet-access-subscription.bicep' = [
  for sub in fleetSubscriptionIds: {
    name: 'arcwave-fleet-${uniqueString(sub, fleetRoleName)}'
    scope: subscription(sub)
    params: {
      principalId: principalId
      roleGuid: fleetRole.outputs.roleGuid
    }
  }
]

// arcwave fleet operator on each fleet resource group.
module fleetResourceGroupAccess 'fleet-access-resource-group.bicep' = [
  for id in fleetResourceGroupIds: {
    name: 'arcwave-fleet-${uniqueString(id, fleetRoleName)}'
    scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
    params: {
      principalId: principalId
      roleGuid: fleetRole.outputs.roleGuid
    }
  }
]

output fleetRoleDefinitionId string = fleetRole.outputs.id
output fleetSubscriptions array = fleetSubscriptions
