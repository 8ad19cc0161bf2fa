import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Construct } from 'constructs';

export interface QueueNotEmptyAlarmProps {
  /** Alarm name, e.g. `<prefix>-usage-aggregation-dlq-not-empty`. */
  readonly alarmName: string;
  /** What a message in the queue means and what to do about it. */
  readonly alarmDescription: string;
  readonly queueName: string;
  readonly alarmTopicArn: string;
}

/** An alarm raised while a (dead-letter) queue holds any message, checked every five minutes. */
export function queueNotEmptyAlarm(scope: Construct, id: string, props: QueueNotEmptyAlarmProps): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.alarmDescription,
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    dimensions: { QueueName: props.queueName },
    statistic: 'Maximum',
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [props.alarmTopicArn],
  });
}
