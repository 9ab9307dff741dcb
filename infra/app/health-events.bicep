metadata description = 'Resource health system topic of a subscription (Microsoft.ResourceNotifications.HealthResources) and the subscription that delivers connected clusters becoming available again to the on_arm_event function, which catches them up.'

@description('Name of the system topic.')
param topicName string

@description('Create the event subscription (needs the published function and its eventgrid_extension key).')
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

@description('Tags applied to the topic.')
param tags object

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.ResourceNotifications.HealthResources'
  }
}

resource healthSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
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
        'Microsoft.ResourceNotifications.HealthResources.AvailabilityStatusChanged'
      ]
      enableAdvancedFilteringOnArrays: true
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.resourceInfo.properties.targetResourceType'
          values: [
            'Microsoft.Kubernetes/connectedClusters'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output topicName string = topic.name
