/**
 * What Firehose does on an ordinary day, played on the local delivery: it delivers at least once (a
 * record can reach the table twice) and late (a record can arrive after its hour was aggregated and
 * billed). Wraps the processor the local Firehose hands its batches to: a seeded share of records is
 * delivered a second time, and a seeded share is held back until {@link DeliveryFaults.releaseLate}
 * — the local run releases them after the billing cycle of their hour, so they land in hours that
 * were already sent to Marketplace.
 */
import type { LocalFirehoseRecord, RecordProcessor } from '../firehose/local-firehose';

/** Shares of records, each in [0, 1]. */
export interface DeliveryFaultRates {
  readonly duplicate: number;
  readonly late: number;
}

/** Counts of what was injected. */
export interface DeliveryFaultCounts {
  readonly duplicatesDelivered: number;
  readonly heldLate: number;
  readonly releasedLate: number;
}

export class DeliveryFaults {
  private held: LocalFirehoseRecord[] = [];
  private duplicates = 0;
  private late = 0;
  private released = 0;
  /** The current shares; the run turns `late` off for the last hour (nothing after it would carry the change). */
  rates: DeliveryFaultRates;

  constructor(
    private readonly deliver: RecordProcessor,
    rates: DeliveryFaultRates,
    private readonly random: () => number,
  ) {
    this.rates = rates;
  }

  /** The processor to give the local Firehose. */
  readonly processor: RecordProcessor = async (records) => {
    const now: LocalFirehoseRecord[] = [];
    const again: LocalFirehoseRecord[] = [];
    for (const record of records) {
      if (this.random() < this.rates.late) {
        this.held.push(record);
        this.late += 1;
        continue;
      }
      now.push(record);
      if (this.random() < this.rates.duplicate) again.push(record);
    }
    await this.deliver(now);
    if (again.length > 0) {
      // The same records again, as a retried delivery would bring them (same data, new batch).
      await this.deliver(again);
      this.duplicates += again.length;
    }
  };

  /** Delivers every held record now. */
  async releaseLate(): Promise<number> {
    const records = this.held;
    this.held = [];
    await this.deliver(records);
    this.released += records.length;
    return records.length;
  }

  counts(): DeliveryFaultCounts {
    return { duplicatesDelivered: this.duplicates, heldLate: this.late, releasedLate: this.released };
  }
}
