/**
 * The local stand-in for the Cost and Usage Report: the cost lines of a cost file
 * (core/cost/cost-file.ts), read for a range of days as the CUR table is (adapters/athena/
 * athena-cost-lines.ts). A file usually covers more than the range asked for (a month, a sample of a
 * few days); a line belongs to the UTC day of its `start`, and lines of other days are left out — and
 * counted, so that whoever reads them can say how many.
 *
 * The file is read and validated once, when the source is made, so that a bad file is refused before
 * anything else runs.
 */
import * as fs from 'node:fs';
import { checkConsumptionRange, type ConsumptionRange } from '../../core/cost/consumption';
import { CostFileError, parseCostFileText } from '../../core/cost/cost-file';
import type { CostLine, CostLineSource } from '../../core/cost/cost-line';

const DAY_MS = 86_400_000;

/** What the last {@link CostFileSource.read} returned and left out. */
export interface CostFileReadSummary {
  /** Lines of the days asked for. */
  readonly inRange: number;
  /** Lines of other days, left out. */
  readonly outsideRange: number;
}

/** Cost lines of one cost file, by day. */
export class CostFileSource implements CostLineSource {
  private summary: CostFileReadSummary = { inRange: 0, outsideRange: 0 };

  /**
   * @param lines the file's lines (parsed by `parseCostFile`)
   * @param source what the lines were read from, for messages
   */
  constructor(
    readonly lines: readonly CostLine[],
    readonly source: string,
  ) {}

  /**
   * Reads and validates a cost file.
   * @throws CostFileError naming the file and every problem (a file that cannot be read included)
   */
  static fromFile(file: string): CostFileSource {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CostFileError(file, [`cannot be read: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`]);
    }
    return new CostFileSource(parseCostFileText(text, file), file);
  }

  /** The currencies of the lines, sorted (a cost file has one). */
  get currencies(): string[] {
    return [...new Set(this.lines.map((line) => line.currency))].sort();
  }

  /** What the last {@link read} returned and left out. */
  get lastRead(): CostFileReadSummary {
    return { ...this.summary };
  }

  /**
   * The lines whose UTC day lies in the range, in the file's order.
   * @throws ConsumptionRangeError for a range that is not whole UTC days, or empty
   */
  async read(range: ConsumptionRange): Promise<CostLine[]> {
    checkConsumptionRange(range, 'DAILY');
    const lines = this.lines.filter((line) => {
      const day = Math.floor(line.start / DAY_MS) * DAY_MS;
      return day >= range.start && day < range.end;
    });
    this.summary = { inRange: lines.length, outsideRange: this.lines.length - lines.length };
    return lines;
  }
}
