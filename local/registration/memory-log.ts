import type { RegistrationLog } from '../../core/marketplace/registration-ports';

/** One log entry kept by {@link MemoryLog}. */
export interface MemoryLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** A {@link RegistrationLog} that keeps entries (tests assert on outcomes and on what is never logged). */
export class MemoryLog implements RegistrationLog {
  readonly entries: MemoryLogEntry[] = [];

  constructor(private readonly echo: boolean = false) {}

  info(message: string, attributes: Record<string, unknown>): void {
    this.add('info', message, attributes);
  }

  warn(message: string, attributes: Record<string, unknown>): void {
    this.add('warn', message, attributes);
  }

  error(message: string, attributes: Record<string, unknown>): void {
    this.add('error', message, attributes);
  }

  /** The `outcome` attribute of every entry that has one, in order. */
  outcomes(): string[] {
    return this.entries.map((entry) => entry.attributes.outcome).filter((outcome): outcome is string => typeof outcome === 'string');
  }

  private add(level: MemoryLogEntry['level'], message: string, attributes: Record<string, unknown>): void {
    this.entries.push({ level, message, attributes });
    if (this.echo) console.log(JSON.stringify({ level, message, ...attributes }));
  }
}
