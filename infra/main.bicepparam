using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'prod')

param durableBackend = 'DurableTaskScheduler'

param fleetSubscriptionIds = []

param fleetResourceGroupIds = [
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-edge-canary'
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-edge-stores'
]

param armEventTopics = [
  {
    subscriptionId: '00000000-0000-0000-0000-000000000000'
    resourceGroup: 'rg-arcwave-prod'
    resourceGroups: [
      'rg-edge-canary'
      'rg-edge-stores'
    ]
  }
]

param deployEventSubscriptions = bool(readEnvironmentVariable('ARCWAVE_DEPLOY_EVENT_SUBSCRIPTIONS', 'false'))

param acrResourceId = readEnvironmentVariable('ARCWAVE_ACR_RESOURCE_ID', '')

param deployerPrincipalId = readEnvironmentVariable('ARCWAVE_DEPLOYER_PRINCIPAL_ID', '')

param authClientId = readEnvironmentVariable('ARCWAVE_AUTH_EXISTING_CLIENT_ID', '')

param authIdentifierUri = readEnvironmentVariable('ARCWAVE_AUTH_EXISTING_IDENTIFIER_URI', '')

param webhookSecret = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET')

param fluxHmacKey = readEnvironmentVariable('ARCWAVE_FLUX_HMAC_KEY')

param webhookSecretGithub = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET_GITHUB', '')

param webhookSecretGitlab = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET_GITLAB', '')

param webhookSecretAzuredevops = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET_AZUREDEVOPS', '')

param webhookSecretBitbucket = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET_BITBUCKET', '')

param webhookSecretGitea = readEnvironmentVariable('ARCWAVE_WEBHOOK_SECRET_GITEA', '')
