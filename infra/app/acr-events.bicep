metadata description = 'Container registry system topic and the subscription that delivers image and chart pushes to the on_acr_event function (OCI sources). Deployed into the registry\'s resource group.'

@description('Name of the registry whose pushes arcwave follows.')
param registryName string

@description('Name of the system topic.')
param topicName string

@description('Create the event subscription (second deployment, after the code is published).')
param createSubscription bool

@description('Name of the event subscription on the topic.')
param subscriptionName string

@description('Base URL of the function app, without a trailing slash.')
param functionAppUrl string

@description('Function the events are delivered to.')
param functionName string = 'on_acr_event'

@description('System key eventgrid_extension of the function app.')
@secure()
param eventGridExtensionKey string

@description('Tags applied to the topic.')
param tags object

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: registry.location
  tags: tags
  properties: {
    source: registry.id
    topicType: 'Microsoft.ContainerRegistry.Registries'
  }
}

resource acrSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
  parent: topic
  name: subscriptionName
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
      includedEventTypes: [
        'Microsoft.ContainerRegistry.ImagePushed'
        'Microsoft.ContainerRegistry.ChartPushed'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output topicName string = topic.name
