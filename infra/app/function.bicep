metadata description = 'Flex Consumption plan and the arcwave function app (Python 3.11) running as a user-assigned identity, with identity-based host storage.'

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app.')
param tags object

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account used for AzureWebJobsStorage.')
param storageAccountName string

@description('URL of the blob container the plan deploys the package from.')
param deploymentContainerUrl string

@description('Application settings beyond the host storage ones.')
param appSettings object

@description('Log Analytics workspace receiving the function logs.')
param logAnalyticsId string

@description('Upper bound of instances the plan scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Spread instances over availability zones (regions with Flex Consumption zone support only).')
param zoneRedundant bool = false

@description('Memory per instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Client id (appId) of the Entra app registration whose bearer tokens App Service authentication validates.')
param authClientId string

@description('Application ID URI of that registration, accepted as a token audience besides the client id.')
param authIdentifierUri string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

var hostStorageSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
}

var settingList = [for setting in items(union(appSettings, hostStorageSettings)): {
  name: setting.key
  value: setting.value
}]

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      ftpsState: 'Disabled'
      appSettings: settingList
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service authentication with Entra ID: it validates bearer tokens and hands the caller's claims
// (app roles included) to the app in X-MS-CLIENT-PRINCIPAL, and lets every request through. Webhooks
// (signed), Flux events (HMAC), Event Grid (system key) and function-key automation carry no Entra
// token, so requireAuthentication stays false on purpose: the operator routes keep auth level FUNCTION
// at the host, and the app decides per route from the principal's roles. No client secret: there is
// no login flow, only bearer tokens to validate.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13:checkov reads the V1 authsettings shape (properties.enabled); V2 turns authentication on with platform.enabled, which CKV_AZURE_56 checks.
  // checkov:skip=CKV_AZURE_63:HTTP logging is a property of the web config resource, not of authsettingsV2.
  // checkov:skip=CKV_AZURE_65:Detailed error messages are a property of the web config resource, not of authsettingsV2.
  // checkov:skip=CKV_AZURE_66:Failed request tracing is a property of the web config resource, not of authsettingsV2.
  // checkov:skip=CKV_AZURE_80:The .NET Framework version is a property of the web config resource, and the app runs Python.
  // checkov:skip=CKV_AZURE_88:Azure Files mounts are a property of the azurestorageaccounts config resource, not of authsettingsV2.
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: 'https://login.microsoftonline.com/${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            authIdentifierUri
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

resource functionLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'function-logs'
  scope: site
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output url string = 'https://${site.properties.defaultHostName}'
