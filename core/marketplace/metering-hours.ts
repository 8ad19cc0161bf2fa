import { HOUR_MS, hourStart } from '../usage/hours';

/** How old a record may be when sent: Marketplace accepts records up to 6 hours old; keep a margin. */
export const SEND_WINDOW_HOURS = 5;

/** The closed hours a metering run looks at: the last {@link SEND_WINDOW_HOURS}, oldest first. */
export function meteringHours(nowMillis: number, windowHours = SEND_WINDOW_HOURS): number[] {
  const current = hourStart(nowMillis);
  return Array.from({ length: windowHours }, (_, i) => current - (windowHours - i) * HOUR_MS);
}

/** Hours just past the send window, re-checked on every run for usage that never got out (two days). */
export const CLOSE_WINDOW_HOURS = 48;

/** The hours before the send window whose unsent usage is closed and carried forward, oldest first. */
export function unsendableHours(nowMillis: number, windowHours = SEND_WINDOW_HOURS, closeHours = CLOSE_WINDOW_HOURS): number[] {
  const firstSendable = meteringHours(nowMillis, windowHours)[0];
  return Array.from({ length: closeHours }, (_, i) => firstSendable - (closeHours - i) * HOUR_MS);
}
