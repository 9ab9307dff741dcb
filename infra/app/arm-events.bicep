metadata description = 'Azure subscription system topic (ARM writes) and the filtered subscription that delivers connectedClusters writes (a cluster enrolled: catch-up) and fluxConfigurations writes (drift) to the on_arm_event function. Deployed into a resource group of the subscription it watches. Reconnected clusters raise no ARM write; the watch_connectivity timer finds them.'

@description('Name of the system topic. A subscription has at most one Microsoft.Resources.Subscriptions system topic: name the existing one and set createTopic to false to reuse it.')
param topicName string

@description('Create the system topic (false: it already exists in this resource group).')
param createTopic bool = true

@description('Create the event subscription. It needs the deployed function and its eventgrid_extension key, so it is turned on by the second deployment, after the code is published.')
param createSubscription bool

@description('Name of the event subscription on the topic.')
param subscriptionName string

@description('Base URL of the function app, without a trailing slash.')
param functionAppUrl string

@description('Function the events are delivered to.')
param functionName string = 'on_arm_event'

@description('System key eventgrid_extension of the function app.')
@secure()
param eventGridExtensionKey string

@description('ARM operations delivered to the function.')
param operationNames array = [
  'Microsoft.Kubernetes/connectedClusters/write'
  'Microsoft.KubernetesConfiguration/fluxConfigurations/write'
]

@description('Event types delivered to the function.')
param eventTypes array = [
  'Microsoft.Resources.ResourceWriteSuccess'
]

@description('Resource groups of this subscription to watch; empty watches the whole subscription.')
param resourceGroups array = []

@description('Tags applied to the topic.')
param tags object

var subjectPrefixes = [for rg in resourceGroups: '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rg}/']

var operationFilter = [
  {
    operatorType: 'StringIn'
    key: 'data.operationName'
    values: operationNames
  }
]

var subjectFilter = empty(resourceGroups) ? [] : [
  {
    operatorType: 'StringBeginsWith'
    key: 'subject'
    values: subjectPrefixes
  }
]

resource newTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (createTopic) {
  name: topicName
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource armSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
  name: '${topicName}/${subscriptionName}'
  dependsOn: [
    newTopic
  ]
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: '${functionAppUrl}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: eventTypes
      enableAdvancedFilteringOnArrays: true
      advancedFilters: concat(operationFilter, subjectFilter)
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output topicName string = topicName
