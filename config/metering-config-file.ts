import * as fs from 'node:fs';
import * as path from 'node:path';
import { MeteringConfigError, parseMeteringConfig, type MeteringConfig } from '../core/usage/metering-config';

/** The metering configuration shipped with the project. */
export const METERING_CONFIG_FILE = path.join(__dirname, 'metering.json');

/**
 * Reads and validates a metering configuration file. A missing file, invalid JSON or an invalid
 * configuration throws a {@link MeteringConfigError} that names the file and every problem.
 */
export function readMeteringConfigFile(file: string = METERING_CONFIG_FILE): MeteringConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new MeteringConfigError(file, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MeteringConfigError(file, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseMeteringConfig(value, file);
}
