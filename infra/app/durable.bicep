metadata description = 'Durable Task Scheduler and the task hub the function app runs its orchestrations in (host.json storageProvider type azureManaged).'

@description('Name of the scheduler.')
param name string

@description('Region of the scheduler.')
param location string

@description('Tags applied to the scheduler.')
param tags object

@description('Task hub name; the app reads it from ARCWAVE_TASK_HUB.')
param taskHubName string

@description('Consumption bills per operation; Dedicated reserves capacity units.')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Capacity units for the Dedicated SKU (ignored for Consumption).')
@minValue(1)
param capacity int = 1

@description('CIDR ranges allowed to reach the scheduler. Flex Consumption egress is not a fixed range, so the default allows all and access is decided by RBAC.')
param ipAllowlist array = [
  '0.0.0.0/0'
]

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ipAllowlist
    sku: skuName == 'Dedicated' ? {
      name: skuName
      capacity: capacity
    } : {
      name: skuName
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output schedulerName string = scheduler.name
output schedulerId string = scheduler.id
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
