metadata description = 'The action group that sends Azure Monitor alerts to arcwave (POST /api/alerts, triggers/alerts.py) in the common alert schema, so that an alert firing on a cluster a rollout wrote pauses or fails that rollout (docs/gates.md). Alert rules that should halt rollouts name this action group. Its webhook URL carries the default key of the receive_alert function, a key valid for that one route: it exists once the code is published, so main.bicep creates the action group with the second deployment, as it does the Event Grid subscriptions.'

@description('Name of the action group.')
param name string

@description('Short name of the action group, shown in SMS and e-mail notifications (at most 12 characters).')
@maxLength(12)
param shortName string = 'arcwave'

@description('Base URL of the function app, without a trailing slash.')
param functionAppUrl string

@description('Default key of the receive_alert function (valid for POST /api/alerts alone): the function key the webhook URL carries, as action groups send no signature.')
@secure()
param alertsFunctionKey string

@description('Tags applied to the action group.')
param tags object

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: name
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: shortName
    enabled: true
    webhookReceivers: [
      {
        name: 'arcwave'
        serviceUri: '${functionAppUrl}/api/alerts?code=${alertsFunctionKey}'
        useCommonAlertSchema: true
        useAadAuth: false
      }
    ]
  }
}

output id string = actionGroup.id
output name string = actionGroup.name
