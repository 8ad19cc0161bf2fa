import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Construct } from 'constructs';

export interface FunctionErrorsAlarmProps {
  readonly alarmName: string;
  /** What a failure means and where to look. */
  readonly alarmDescription: string;
  readonly functionName: string;
  /** Window in which any error raises the alarm. */
  readonly periodSeconds: number;
  readonly alarmTopicArn: string;
}

/** An alarm raised when a Lambda function fails at least once within the period. */
export function functionErrorsAlarm(scope: Construct, id: string, props: FunctionErrorsAlarmProps): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.alarmDescription,
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensions: { FunctionName: props.functionName },
    statistic: 'Sum',
    period: props.periodSeconds,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [props.alarmTopicArn],
  });
}
