metadata description = 'The arcwave rollout workbook in Application Insights: one rollout\'s spans, activities, ARM calls and logs (by arcwave.rollout.id), and arcwave\'s metrics (docs/telemetry.md).'

@description('Resource id of the Application Insights component the workbook reads.')
param applicationInsightsId string

@description('Name shown in the portal.')
param displayName string

@description('Region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags object

// The workbook's content is plain workbook JSON (workbooks/rollout.json, KQL included); its
// fallback resource is this deployment's Application Insights component.
var content = replace(loadTextContent('workbooks/rollout.json'), '__APPLICATION_INSIGHTS_ID__', applicationInsightsId)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsightsId, 'arcwave-rollout-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: toLower(applicationInsightsId)
    serializedData: content
  }
}

output workbookId string = workbook.id
