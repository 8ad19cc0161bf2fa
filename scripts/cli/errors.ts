import * as fs from 'node:fs';
import { MeteringConfigError, parseMeteringConfig, type MeteringConfig } from '../../core/usage/metering-config';

/** A problem of the command line or the configuration, found after parsing: the command exits with 2. */
export class UsageError extends Error {}

/** One line for the user: the error's own message, with its name when that says more (AWS errors). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.trim() || '(no message)';
  return error.name && error.name !== 'Error' && !message.includes(error.name) ? `${error.name}: ${message}` : message;
}

/**
 * Reads the metering configuration a command was given with `--<option> <file>`; every problem
 * (unreadable file, invalid JSON, invalid configuration) is a {@link UsageError} naming the option.
 */
export function readMeteringConfigOption(file: string, option: string): MeteringConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --${option} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeError(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${option} ${file} is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  try {
    return parseMeteringConfig(value, file);
  } catch (error) {
    if (error instanceof MeteringConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
