metadata description = 'arcwave: wave-based Flux rollouts to Azure Arc fleets. Function app (Flex Consumption, Python 3.11) behind App Service authentication with an Entra app registration and its app roles, Durable Task Scheduler, Cosmos DB, Event Grid, Key Vault and monitoring, with identities instead of keys and a least-privilege fleet role.'

@minLength(1)
@maxLength(64)
@description('Name of the environment (dev, prod, ...); it seeds the unique token in every resource name.')
param environmentName string

@description('Region of every regional resource. It must offer the Flex Consumption plan and the Durable Task Scheduler.')
param location string = resourceGroup().location

@description('Where Durable Functions keeps orchestration state: the Durable Task Scheduler (default) or the Azure Storage account of the host.')
@allowed([
  'DurableTaskScheduler'
  'AzureStorage'
])
param durableBackend string = 'DurableTaskScheduler'

@description('Durable Task Scheduler SKU.')
@allowed([
  'Consumption'
  'Dedicated'
])
param schedulerSku string = 'Consumption'

@description('Task hub name (ARCWAVE_TASK_HUB). Letters and digits, starting with a letter, so it is valid for both backends.')
@minLength(3)
@maxLength(45)
param taskHubName string = 'arcwave'

@description('Cosmos DB database name (ARCWAVE_COSMOS_DATABASE).')
param cosmosDatabaseName string = 'arcwave'

@description('Days a timeline entry is kept.')
@minValue(1)
param timelineTtlDays int = 90

@description('Days a webhook or event delivery id is kept for de-duplication.')
@minValue(1)
param deliveriesTtlDays int = 7

@description('ARM endpoint the app calls (ARCWAVE_ARM_ENDPOINT).')
param armEndpoint string = 'https://management.azure.com'

@description('Subscriptions (ids) whose Arc clusters arcwave manages: the fleet role is assigned on the whole subscription.')
param fleetSubscriptionIds array = [
  subscription().subscriptionId
]

@description('Resource groups (resource ids, /subscriptions/<id>/resourceGroups/<name>) whose Arc clusters arcwave manages, for fleets narrower than a subscription.')
param fleetResourceGroupIds array = []

@description('One ARM system topic per fleet subscription: [{subscriptionId, resourceGroup, topicName?, createTopic?, resourceGroups?}]. resourceGroup must exist in that subscription; set topicName and createTopic false to reuse the subscription\'s existing Microsoft.Resources.Subscriptions topic; resourceGroups narrows the events to those resource groups.')
param armEventTopics array = [
  {
    subscriptionId: subscription().subscriptionId
    resourceGroup: resourceGroup().name
  }
]

@description('Create what delivers to the published functions with their keys: the Event Grid subscriptions to on_arm_event and on_acr_event (the eventgrid_extension key) and the action group that sends Azure Monitor alerts to receive_alert (its function key). They need the published code: deploy with false, publish, then deploy again with true.')
param deployEventSubscriptions bool = false

@description('Resource id of a container registry whose pushes arcwave follows (OCI sources); empty for none.')
param acrResourceId string = ''

@description('Object id of the pipeline identity that publishes the code (Website Contributor on the app); empty for none.')
param deployerPrincipalId string = ''

@description('Principal type of deployerPrincipalId.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param deployerPrincipalType string = 'ServicePrincipal'

@description('Shared secret of the Git webhooks (ARCWAVE_WEBHOOK_SECRET), stored in Key Vault.')
@secure()
param webhookSecret string

@description('HMAC key of the Flux generic-hmac provider (ARCWAVE_FLUX_HMAC_KEY), stored in Key Vault.')
@secure()
param fluxHmacKey string

@description('GitHub webhook secret (ARCWAVE_WEBHOOK_SECRET_GITHUB); empty uses webhookSecret.')
@secure()
param webhookSecretGithub string = ''

@description('GitLab secret token (ARCWAVE_WEBHOOK_SECRET_GITLAB); empty uses webhookSecret.')
@secure()
param webhookSecretGitlab string = ''

@description('Azure DevOps service hook header secret (ARCWAVE_WEBHOOK_SECRET_AZUREDEVOPS); empty uses webhookSecret.')
@secure()
param webhookSecretAzuredevops string = ''

@description('Bitbucket webhook secret (ARCWAVE_WEBHOOK_SECRET_BITBUCKET); empty uses webhookSecret.')
@secure()
param webhookSecretBitbucket string = ''

@description('Gitea/Forgejo webhook secret (ARCWAVE_WEBHOOK_SECRET_GITEA); empty uses webhookSecret.')
@secure()
param webhookSecretGitea string = ''

@description('Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per Flex Consumption instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Spread Flex Consumption instances over availability zones (only in regions that support it).')
param zoneRedundant bool = false

@description('Client id (appId) of an existing Entra app registration for the arcwave API. Empty: the deployment creates the registration, its app roles and its service principal with the Microsoft Graph Bicep extension, which needs the right to create applications in the directory.')
param authClientId string = ''

@description('Application ID URI of the existing registration named by authClientId; empty means api://<authClientId>. Ignored when the deployment creates the registration.')
param authIdentifierUri string = ''

@description('Override of the function app name.')
param functionAppName string = ''

@description('Override of the storage account name.')
param storageAccountName string = ''

@description('Override of the Key Vault name.')
param keyVaultName string = ''

@description('Override of the Cosmos DB account name.')
param cosmosAccountName string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

var createAuthApp = empty(authClientId)
var authAppUniqueName = 'arcwave-${environmentName}-${resourceToken}'

var appName = !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}arcwave-${resourceToken}'
var deploymentContainerName = toLower('app-package-${take(appName, 32)}-${take(resourceToken, 7)}')
var useScheduler = durableBackend == 'DurableTaskScheduler'

var webhookSecretNames = {
  github: 'arcwave-webhook-secret-github'
  gitlab: 'arcwave-webhook-secret-gitlab'
  azuredevops: 'arcwave-webhook-secret-azuredevops'
  bitbucket: 'arcwave-webhook-secret-bitbucket'
  gitea: 'arcwave-webhook-secret-gitea'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${abbrs.managedIdentityUserAssignedIdentities}arcwave-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

// The rollout workbook: a rollout's spans, ARM calls and logs by arcwave.rollout.id.
module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  params: {
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    displayName: 'arcwave rollouts (${environmentName})'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module durable 'app/durable.bicep' = if (useScheduler) {
  name: 'durable'
  params: {
    name: '${abbrs.durableTaskSchedulers}${resourceToken}'
    location: location
    tags: tags
    taskHubName: taskHubName
    skuName: schedulerSku
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: !empty(cosmosAccountName) ? cosmosAccountName : '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    timelineTtlSeconds: timelineTtlDays * 86400
    deliveriesTtlSeconds: deliveriesTtlDays * 86400
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    secrets: {
      'arcwave-webhook-secret': webhookSecret
      'arcwave-flux-hmac-key': fluxHmacKey
      'arcwave-webhook-secret-github': webhookSecretGithub
      'arcwave-webhook-secret-gitlab': webhookSecretGitlab
      'arcwave-webhook-secret-azuredevops': webhookSecretAzuredevops
      'arcwave-webhook-secret-bitbucket': webhookSecretBitbucket
      'arcwave-webhook-secret-gitea': webhookSecretGitea
    }
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  params: {
    name: '${abbrs.eventGridDomainsTopics}arcwave-${resourceToken}'
    location: location
    tags: tags
  }
}

// The API's Entra app registration: created here unless authClientId names an existing one.
module authRegistration 'app/auth.bicep' = if (createAuthApp) {
  name: 'auth-registration'
  params: {
    uniqueName: authAppUniqueName
    displayName: 'arcwave (${environmentName}, ${resourceToken})'
    identifierUri: 'api://${tenant().tenantId}/${authAppUniqueName}'
  }
}

var authAppClientId = createAuthApp ? authRegistration.outputs.clientId : authClientId
var authAppIdentifierUri = createAuthApp ? authRegistration.outputs.identifierUri : (empty(authIdentifierUri) ? 'api://${authClientId}' : authIdentifierUri)

var schedulerSettings = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durable.outputs.endpoint};Authentication=ManagedIdentity;ClientID=${identity.properties.clientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}

var azureStorageSettings = {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'AzureStorage'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'AzureWebJobsStorage'
}

var vaultUri = keyVault.outputs.uri

var githubSecretSetting = empty(webhookSecretGithub) ? {} : {
  ARCWAVE_WEBHOOK_SECRET_GITHUB: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${webhookSecretNames.github}/)'
}

var gitlabSecretSetting = empty(webhookSecretGitlab) ? {} : {
  ARCWAVE_WEBHOOK_SECRET_GITLAB: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${webhookSecretNames.gitlab}/)'
}

var azuredevopsSecretSetting = empty(webhookSecretAzuredevops) ? {} : {
  ARCWAVE_WEBHOOK_SECRET_AZUREDEVOPS: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${webhookSecretNames.azuredevops}/)'
}

var bitbucketSecretSetting = empty(webhookSecretBitbucket) ? {} : {
  ARCWAVE_WEBHOOK_SECRET_BITBUCKET: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${webhookSecretNames.bitbucket}/)'
}

var giteaSecretSetting = empty(webhookSecretGitea) ? {} : {
  ARCWAVE_WEBHOOK_SECRET_GITEA: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${webhookSecretNames.gitea}/)'
}

var baseSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  AZURE_CLIENT_ID: identity.properties.clientId
  ARCWAVE_TASK_HUB: taskHubName
  ARCWAVE_ARM_ENDPOINT: armEndpoint
  ARCWAVE_CREDENTIAL: 'default'
  ARCWAVE_STORE: 'cosmos'
  ARCWAVE_COSMOS_ENDPOINT: cosmos.outputs.endpoint
  ARCWAVE_COSMOS_DATABASE: cosmos.outputs.databaseName
  ARCWAVE_EVENTGRID_ENDPOINT: eventGrid.outputs.endpoint
  ARCWAVE_KEYVAULT_URL: vaultUri
  ARCWAVE_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/arcwave-webhook-secret/)'
  ARCWAVE_FLUX_HMAC_KEY: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/arcwave-flux-hmac-key/)'
}

var appSettings = union(baseSettings, githubSecretSetting, gitlabSecretSetting, azuredevopsSecretSetting, bitbucketSecretSetting, giteaSecretSetting, useScheduler ? schedulerSettings : azureStorageSettings)

module functionApp 'app/function.bicep' = {
  name: 'function'
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appSettings: appSettings
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    zoneRedundant: zoneRedundant
    authClientId: authAppClientId
    authIdentifierUri: authAppIdentifierUri
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    durableBackend: durableBackend
    schedulerName: useScheduler ? durable.outputs.schedulerName : ''
    cosmosAccountName: cosmos.outputs.accountName
    cosmosDatabaseName: cosmos.outputs.databaseName
    keyVaultName: keyVault.outputs.name
    eventGridTopicName: eventGrid.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionAppName: functionApp.outputs.name
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    fleetSubscriptionIds: fleetSubscriptionIds
    fleetResourceGroupIds: fleetResourceGroupIds
    fleetRoleName: 'arcwave fleet operator (${environmentName}, ${resourceToken})'
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

module armEvents 'app/arm-events.bicep' = [
  for topic in armEventTopics: {
    name: 'arm-events-${uniqueString(topic.subscriptionId, resourceToken)}'
    scope: resourceGroup(topic.subscriptionId, topic.resourceGroup)
    dependsOn: [
      functionApp
    ]
    params: {
      topicName: contains(topic, 'topicName') ? topic.topicName : '${abbrs.eventGridSystemTopics}arm-${resourceToken}'
      createTopic: contains(topic, 'createTopic') ? topic.createTopic : true
      resourceGroups: contains(topic, 'resourceGroups') ? topic.resourceGroups : []
      createSubscription: deployEventSubscriptions
      subscriptionName: '${abbrs.eventGridEventSubscriptions}arcwave-arm-${resourceToken}'
      functionAppUrl: functionApp.outputs.url
      eventGridExtensionKey: deployEventSubscriptions ? listKeys('${site.id}/host/default', '2024-04-01').systemKeys.eventgrid_extension : ''
      tags: tags
    }
  }
]

module acrEvents 'app/acr-events.bicep' = if (!empty(acrResourceId)) {
  name: 'acr-events-${resourceToken}'
  scope: resourceGroup(split(acrResourceId, '/')[2], split(acrResourceId, '/')[4])
  dependsOn: [
    functionApp
  ]
  params: {
    registryName: last(split(acrResourceId, '/'))
    topicName: '${abbrs.eventGridSystemTopics}acr-${resourceToken}'
    createSubscription: deployEventSubscriptions
    subscriptionName: '${abbrs.eventGridEventSubscriptions}arcwave-acr-${resourceToken}'
    functionAppUrl: functionApp.outputs.url
    eventGridExtensionKey: deployEventSubscriptions ? listKeys('${site.id}/host/default', '2024-04-01').systemKeys.eventgrid_extension : ''
    tags: tags
  }
}

// Azure Monitor alerts halt rollouts: alert rules that should do so name this action group,
// which posts to POST /api/alerts with the receive_alert function's own key (docs/gates.md).
module alertActionGroup 'app/alerts.bicep' = if (deployEventSubscriptions) {
  name: 'alerts-${resourceToken}'
  dependsOn: [
    functionApp
  ]
  params: {
    name: '${abbrs.insightsActionGroups}arcwave-${resourceToken}'
    functionAppUrl: functionApp.outputs.url
    alertsFunctionKey: deployEventSubscriptions ? listKeys('${site.id}/functions/receive_alert', '2024-04-01').default : ''
    tags: tags
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_CLIENT_ID string = identity.properties.clientId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_URL string = functionApp.outputs.url
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output ARCWAVE_KEYVAULT_URL string = vaultUri
output AZURE_FLEET_ROLE_DEFINITION_ID string = rbac.outputs.fleetRoleDefinitionId
output ARCWAVE_TASK_HUB string = taskHubName
output ARCWAVE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output ARCWAVE_COSMOS_DATABASE string = cosmos.outputs.databaseName
output ARCWAVE_EVENTGRID_ENDPOINT string = eventGrid.outputs.endpoint
output ARCWAVE_HOOK_URL_GITHUB string = '${functionApp.outputs.url}/api/hooks/github'
output ARCWAVE_HOOK_URL_GITLAB string = '${functionApp.outputs.url}/api/hooks/gitlab'
output ARCWAVE_HOOK_URL_AZUREDEVOPS string = '${functionApp.outputs.url}/api/hooks/azuredevops'
output ARCWAVE_HOOK_URL_BITBUCKET string = '${functionApp.outputs.url}/api/hooks/bitbucket'
output ARCWAVE_HOOK_URL_GITEA string = '${functionApp.outputs.url}/api/hooks/gitea'
output ARCWAVE_FLUX_EVENTS_URL string = '${functionApp.outputs.url}/api/flux/events'
output ARCWAVE_ALERTS_URL string = '${functionApp.outputs.url}/api/alerts'
output ARCWAVE_ALERTS_ACTION_GROUP_ID string = deployEventSubscriptions ? alertActionGroup.outputs.id : ''
output ARCWAVE_AUTH_CLIENT_ID string = authAppClientId
output ARCWAVE_AUTH_IDENTIFIER_URI string = authAppIdentifierUri
output ARCWAVE_AUTH_SCOPE string = '${authAppIdentifierUri}/.default'
