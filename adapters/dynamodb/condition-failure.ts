import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Whether a DynamoDB call failed because its condition expression was false (not an error of the call). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
