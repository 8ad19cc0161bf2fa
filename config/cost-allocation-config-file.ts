import * as fs from 'node:fs';
import * as path from 'node:path';
import { CostAllocationConfigError, parseCostAllocationConfig, type CostAllocationConfig } from '../core/cost/allocation-config';

/** The cost allocation rules shipped with the project. */
export const COST_ALLOCATION_CONFIG_FILE = path.join(__dirname, 'cost-allocation.json');

/**
 * Reads and validates a cost allocation configuration file. A missing file, invalid JSON or an invalid
 * configuration (see `core/cost/allocation-config.ts`) throws a {@link CostAllocationConfigError} that
 * names the file and every problem.
 */
export function readCostAllocationConfigFile(file: string = COST_ALLOCATION_CONFIG_FILE): CostAllocationConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CostAllocationConfigError(file, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CostAllocationConfigError(file, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseCostAllocationConfig(value, file);
}
