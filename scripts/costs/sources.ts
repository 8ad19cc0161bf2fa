/**
 * Where `npm run costs` reads, per engine, behind the three ports the report needs: the usage engine
 * (revenue: the aggregation's SQL on the lake), the cost lines and the tenant consumption.
 *
 *   duckdb   the local Parquet lake (usage and the lake's consumption), a cost file, and captured
 *            tenant metrics (EMF lines) when given
 *   athena   the lake on Athena, the CUR 2.0 table on Athena (its own database), and the tenant
 *            metrics in the functions' log groups through CloudWatch Logs Insights when given
 *
 * The engines' modules (DuckDB's native module, the AWS SDK) are loaded only for the engine used.
 * Each source also keeps what its reads found — lines of other days left out, metric lines skipped,
 * bytes scanned — for the command's stderr.
 */
import type { ConsumptionRange, ConsumptionRecord, ConsumptionSource, Granularity } from '../../core/cost/consumption';
import type { EmfConsumption } from '../../core/cost/emf-consumption';
import type { CostLine, CostLineSource } from '../../core/cost/cost-line';
import type { UsageQueryEngine } from '../../core/usage/usage-query-engine';
import type { CostFileSource } from '../../local/cost/cost-file-source';
import type { CostsTarget } from './options';

/** How long one Athena query may run (a month of a busy lake). */
const ATHENA_TIMEOUT_MS = 900_000;
/** How long one Logs Insights query may run. */
const LOGS_INSIGHTS_TIMEOUT_MS = 300_000;

/** The open sources of one report. */
export interface ReportSources {
  /** Where the report reads, for messages. */
  readonly description: string;
  /** The usage lake, for `measureUsage`. */
  readonly usageEngine: UsageQueryEngine;
  readonly costLines: CostLineSource;
  /** The lake's consumption and, when configured, the tenant metrics', combined. */
  readonly consumption: ConsumptionSource;
  /** Whether tenant metrics (invocations, duration, DynamoDB capacity) have a source. */
  readonly tenantMetrics: boolean;
  /** What the reads found, one line each (lines left out, metric lines skipped). */
  notes(): string[];
  /** Tenant metric lines that could not be read, one line each. */
  problems(): string[];
  /** Bytes scanned by the consumption and cost reads (usage is counted by the caller), where billed. */
  scanned(): { readonly athenaBytes?: number; readonly logsInsightsBytes?: number };
  close(): Promise<void>;
}

/** Test hooks: how the AWS adapters wait between polls. */
export interface SourceTuning {
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Settings both engines need. */
export interface SourceSettings {
  /** The allocation configuration's tenant tag (CUR `resource_tags` key). */
  readonly tenantTag: string;
  /** The tenant metrics' CloudWatch namespace. */
  readonly namespace: string;
}

/**
 * The local sources: the DuckDB lake at `target.lake` (which must exist), the cost file already read,
 * and the captured tenant metric lines, if any.
 */
export async function openLocalSources(
  target: Extract<CostsTarget, { engine: 'duckdb' }>,
  costFile: CostFileSource,
  metricLines: readonly string[] | undefined,
  settings: SourceSettings,
): Promise<ReportSources> {
  const { DuckDbLake } = await import('../../adapters/duckdb/duckdb-lake');
  const { DuckDbUsageEngine } = await import('../../adapters/duckdb/duckdb-usage-engine');
  const { CombinedConsumptionSource } = await import('../../core/cost/combined-consumption');
  const { LakeConsumptionSource } = await import('../../core/cost/lake-consumption');
  const { EmfLogConsumptionSource } = await import('../../local/cost/emf-log-consumption');
  const { readTenantConsumptionSql } = await import('../../sql/sql-files');
  const lake = await DuckDbLake.open(target.lake);
  const engine = new DuckDbUsageEngine(lake);
  let emf: Omit<EmfConsumption, 'records'> | undefined;
  const sources: ConsumptionSource[] = [new LakeConsumptionSource(engine, readTenantConsumptionSql())];
  if (metricLines !== undefined) sources.push(new EmfLogConsumptionSource(metricLines, { namespace: settings.namespace, onRead: (summary) => (emf = summary) }));
  return {
    description: `the DuckDB lake ${target.lake}`,
    usageEngine: engine,
    costLines: costFile,
    consumption: new CombinedConsumptionSource(sources),
    tenantMetrics: metricLines !== undefined,
    notes() {
      const { inRange, outsideRange } = costFile.lastRead;
      const notes = [`cost file ${costFile.source}: ${inRange} line${inRange === 1 ? '' : 's'} of the period${outsideRange === 0 ? '' : `, ${outsideRange} of other days left out`}`];
      if (emf !== undefined) {
        notes.push(
          `tenant metrics ${target.metrics}: ${emf.counted} of ${emf.lines} lines counted` +
            (emf.outsideRange === 0 ? '' : `, ${emf.outsideRange} of other days`) +
            (emf.foreign === 0 ? '' : `, ${emf.foreign} not tenant metrics of namespace ${settings.namespace}`) +
            (emf.malformed.length === 0 ? '' : `, ${emf.malformed.length} malformed`),
        );
      }
      return notes;
    },
    problems: () => (emf?.malformed ?? []).map((line) => `${target.metrics} line ${line.index + 1} skipped: ${line.reason}`),
    scanned: () => ({}),
    close: async () => lake.close(),
  };
}

/** The AWS sources: the lake and the CUR table on Athena, the tenant metrics through Logs Insights. */
export async function openAthenaSources(target: Extract<CostsTarget, { engine: 'athena' }>, settings: SourceSettings, tuning: SourceTuning = {}): Promise<ReportSources> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { AthenaClient } = await import('@aws-sdk/client-athena');
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  const { AthenaQueryRunner } = await import('../../adapters/athena/athena-query-runner');
  const { AthenaUsageEngine } = await import('../../adapters/athena/athena-usage-engine');
  const { AthenaCostLines } = await import('../../adapters/athena/athena-cost-lines');
  const { LogsInsightsConsumptionSource } = await import('../../adapters/cloudwatch/logs-insights-consumption');
  const { CombinedConsumptionSource } = await import('../../core/cost/combined-consumption');
  const { LakeConsumptionSource } = await import('../../core/cost/lake-consumption');
  const { readCostLinesSql, readTenantConsumptionSql } = await import('../../sql/sql-files');
  const { costLinesSqlForTable } = await import('./cur-table-sql');

  const sleep = tuning.sleep === undefined ? {} : { sleep: tuning.sleep };
  const athena = new AthenaClient({ region: target.region });
  const lakeRunner = new AthenaQueryRunner(athena, { workGroup: target.workgroup, database: target.database, timeoutMs: ATHENA_TIMEOUT_MS, ...sleep });
  const costRunner = new AthenaQueryRunner(athena, { workGroup: target.workgroup, database: target.costDatabase, timeoutMs: ATHENA_TIMEOUT_MS, ...sleep });
  const engine = new AthenaUsageEngine(lakeRunner);
  let athenaBytes = 0;
  let costLineCount = 0;

  const lakeConsumption = new LakeConsumptionSource(engine, readTenantConsumptionSql());
  const sources: ConsumptionSource[] = [
    {
      async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
        const read = await lakeConsumption.measure(range, granularity);
        athenaBytes += read.bytesScanned ?? 0;
        return read.records;
      },
    },
  ];
  const logs = target.logGroups.length === 0 ? undefined : new CloudWatchLogsClient({ region: target.region });
  const metrics = logs === undefined
    ? undefined
    : new LogsInsightsConsumptionSource(logs, { logGroups: target.logGroups, namespace: settings.namespace, timeoutMs: LOGS_INSIGHTS_TIMEOUT_MS, ...sleep });
  if (metrics !== undefined) sources.push(metrics);

  const cur = new AthenaCostLines(costRunner, { sql: costLinesSqlForTable(readCostLinesSql(), target.costTable), tenantTag: settings.tenantTag, timeoutMs: ATHENA_TIMEOUT_MS });
  const costLines: CostLineSource = {
    async read(range): Promise<CostLine[]> {
      const read = await cur.measure(range);
      athenaBytes += read.bytesScanned;
      costLineCount = read.lines.length;
      return read.lines;
    },
  };
  const table = `${target.costDatabase}.${target.costTable}`;
  return {
    description: `Athena (workgroup ${target.workgroup}, lake ${target.database}, CUR ${table}, ${target.region})` + (metrics === undefined ? '' : ` and Logs Insights over ${target.logGroups.length} log group${target.logGroups.length === 1 ? '' : 's'}`),
    usageEngine: engine,
    costLines,
    consumption: new CombinedConsumptionSource(sources),
    tenantMetrics: metrics !== undefined,
    notes() {
      const notes = [`CUR table ${table}: ${costLineCount} cost line${costLineCount === 1 ? '' : 's'} of the period`];
      if (metrics !== undefined) {
        const read = metrics.lastRead;
        notes.push(`tenant metrics: ${read.queries} Logs Insights quer${read.queries === 1 ? 'y' : 'ies'}` + (read.otherNamespaceRows === 0 ? '' : `, ${read.otherNamespaceRows} result rows of other namespaces skipped`));
      }
      return notes;
    },
    problems: () => [],
    scanned: () => ({ athenaBytes, ...(metrics === undefined ? {} : { logsInsightsBytes: metrics.lastRead.bytesScanned }) }),
    close: async () => {
      athena.destroy();
      logs?.destroy();
    },
  };
}
