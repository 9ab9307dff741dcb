metadata description = 'The Entra ID app registration of the arcwave API and its service principal (Microsoft Graph Bicep extension): the four app roles arcwave checks, the user_impersonation scope clients request, v2 access tokens. Deploying it needs the right to create applications in the directory; main.bicep skips it when authClientId names an existing registration.'

extension microsoftGraphV1

@description('Alternate key of the registration (uniqueName); immutable once created, so redeployments update the same registration.')
param uniqueName string

@description('Display name of the registration and of its enterprise application.')
param displayName string

@description('Application ID URI (identifierUris): clients request <identifierUri>/.default.')
param identifierUri string

// Ids are fixed per role value, so redeployments keep every app role assignment.
resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  description: 'arcwave API: operators and pipelines call it with a bearer token; the app roles decide what each may do.'
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: guid('arcwave', 'oauth2PermissionScope', 'user_impersonation')
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Access arcwave'
        adminConsentDescription: 'Lets the application call the arcwave API as the signed-in user, with that user\'s arcwave roles.'
        userConsentDisplayName: 'Access arcwave as you'
        userConsentDescription: 'Lets the application call the arcwave API as you, with your arcwave roles.'
      }
    ]
  }
  appRoles: [
    {
      id: guid('arcwave', 'appRole', 'arcwave.Reader')
      value: 'arcwave.Reader'
      displayName: 'arcwave Reader'
      description: 'Read tracks, rollouts, their timelines and the fleet; preview a plan.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
    {
      id: guid('arcwave', 'appRole', 'arcwave.Operator')
      value: 'arcwave.Operator'
      displayName: 'arcwave Operator'
      description: 'Start a rollout; pause, resume, abort (with or without rollback) a running one; roll back a finished one.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
    {
      id: guid('arcwave', 'appRole', 'arcwave.Approver')
      value: 'arcwave.Approver'
      displayName: 'arcwave Approver'
      description: 'Approve a wave that waits for approval.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
    {
      id: guid('arcwave', 'appRole', 'arcwave.Admin')
      value: 'arcwave.Admin'
      displayName: 'arcwave Admin'
      description: 'Create, change and delete tracks.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
  ]
}

// The enterprise application: app roles are assigned on it, and only assigned principals get a token.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  appRoleAssignmentRequired: true
}

output clientId string = app.appId
output servicePrincipalId string = servicePrincipal.id
output identifierUri string = identifierUri
