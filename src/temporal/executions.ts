import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** Whether a workflow execution with this id is still open; decides whether a 'running' run was orphaned. */
export async function isWorkflowOpen(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
