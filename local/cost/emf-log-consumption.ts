/**
 * The local stand-in for the CloudWatch Logs Insights consumption source: the tenant metrics the
 * functions wrote during a local run, kept as the EMF lines themselves (functions/commons/
 * tenant-metrics.ts `write` option), summed with the same rules (core/cost/emf-consumption.ts).
 */
import { checkConsumptionRange, type ConsumptionRange, type ConsumptionRecord, type ConsumptionSource, type Granularity } from '../../core/cost/consumption';
import { consumptionFromEmfLines, type EmfConsumption } from '../../core/cost/emf-consumption';

/** Settings of {@link EmfLogConsumptionSource}. */
export interface EmfLogConsumptionOptions {
  /** Only metrics of this namespace count (as in AWS, where the export reads one namespace). @default any */
  readonly namespace?: string;
  /** Told what every read found: lines skipped as foreign, malformed ones with their reason. */
  readonly onRead?: (summary: Omit<EmfConsumption, 'records'>) => void;
}

/**
 * Consumption streams `lambda_invocations`, `lambda_duration_ms` and `dynamodb_capacity_units` from
 * captured EMF lines. The array is read at every {@link read}, so lines captured later count.
 */
export class EmfLogConsumptionSource implements ConsumptionSource {
  constructor(
    private readonly lines: readonly string[],
    private readonly options: EmfLogConsumptionOptions = {},
  ) {}

  async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
    checkConsumptionRange(range, granularity);
    const { records, ...summary } = consumptionFromEmfLines(this.lines, { range, granularity, namespace: this.options.namespace });
    this.options.onRead?.(summary);
    return records;
  }
}

/** Lines captured from tenant metrics: pass {@link write} as their `write` option, read them with {@link source}. */
export class CapturedEmfLines {
  readonly lines: string[] = [];

  /** Keeps one EMF line. */
  readonly write = (line: string): void => {
    this.lines.push(line);
  };

  /** A consumption source over the lines captured so far and later. */
  source(options: EmfLogConsumptionOptions = {}): EmfLogConsumptionSource {
    return new EmfLogConsumptionSource(this.lines, options);
  }
}
