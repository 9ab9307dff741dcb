metadata description = 'Key Vault in RBAC mode (no access policies): the webhook and Flux HMAC secrets the app reads through Key Vault references, and the Flux source credentials (SSH keys, tokens) that operators store and the app reads at write time from ARCWAVE_KEYVAULT_URL.'

@description('Name of the vault.')
param name string

@description('Region of the vault.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Secret name to value. Empty values are skipped, so optional per-provider secrets can be left out. Secrets stored by hand (Flux source credentials) are not in this list and a deployment leaves them alone.')
@secure()
param secrets object

@description('Log Analytics workspace receiving the vault audit log.')
param logAnalyticsId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource vaultSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for secret in items(secrets): if (!empty(secret.value)) {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: 'text/plain'
    }
  }
]

resource auditLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output id string = vault.id
@description('Vault URI with a trailing slash (https://<name>.vault.azure.net/): ARCWAVE_KEYVAULT_URL and the base of every Key Vault reference.')
output uri string = vault.properties.vaultUri
