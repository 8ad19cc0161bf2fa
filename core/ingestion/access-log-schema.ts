/**
 * The access-log schema of the ingestion transform, compiled once (at module load) from
 * {@link ACCESS_LOG_FIELDS} into one small validator per field, so that the stage's log format and the
 * checks applied to what it writes cannot drift apart.
 *
 * Every value of an access-log line is a JSON string (see `core/access-log/fields.ts`). Per field type:
 * - `string`: at most {@link MAX_STRING_LENGTH} UTF-16 code units, well-formed Unicode (no unpaired
 *   surrogate, which could not be stored as UTF-8); non-empty when the field is not nullable.
 * - `integer`: decimal digits only, no sign, no leading zero, no exponent, no blanks, within the field's
 *   range (`status` 100–599, everything else 0..2^31-1); written out as a JSON number.
 * - `epoch_millis`: like `integer`, between 2015-01-01 and "now + 1 day"; written out as an Iceberg
 *   timestamp (see {@link epochMillisToIcebergTimestamp}).
 * - `ip`: an IPv4 or IPv6 address as `node:net` `isIP` accepts it.
 * - `-` (API Gateway's "no value") becomes JSON null in a nullable field and makes the record invalid
 *   in any other.
 *
 * Unknown fields are ignored, not rejected: they are never written (the output is rebuilt from the
 * field list only, so nothing unvalidated reaches the table), and rejecting them would send every
 * record to the error prefix — and out of billing — whenever the stage's log format and this
 * transform are deployed a few minutes apart. Everything that *is* written is checked strictly.
 *
 * Failure reasons name the field and the rule, never the value: access logs hold IP addresses and
 * user names, and reasons end up in CloudWatch Logs.
 */
import { isUtf8 } from 'node:buffer';
import { isIP } from 'node:net';
import { ABSENT_VALUE, ACCESS_LOG_FIELDS, type AccessLogField, type AccessLogFieldType } from '../access-log/fields';

/** Longest accepted `string` value, in UTF-16 code units (JavaScript `length`). */
export const MAX_STRING_LENGTH = 2048;
/** Largest accepted `integer` value unless the field has its own range: 2^31 - 1 (an Iceberg `int`). */
export const MAX_INTEGER = 2 ** 31 - 1;
/** Earliest accepted `request_time`: 2015-01-01T00:00:00Z (API Gateway did not exist before). */
export const MIN_REQUEST_TIME_MILLIS = Date.UTC(2015, 0, 1);
/** How far in the future a `request_time` may be (clock skew between API Gateway and Lambda). */
export const MAX_FUTURE_SKEW_MILLIS = 24 * 60 * 60 * 1000;
/** Integer fields whose accepted range is not 0..{@link MAX_INTEGER}. */
export const INTEGER_RANGES: Readonly<Record<string, readonly [min: number, max: number]>> = {
  status: [100, 599],
};

/** What validation needs to know about the moment it runs; computed once per batch. */
export interface ValidationContext {
  /** The latest acceptable epoch-millisecond timestamp (now + {@link MAX_FUTURE_SKEW_MILLIS}). */
  readonly maxEpochMillis: number;
}

/** The validation context for a batch processed at `nowMillis`. */
export function validationContextAt(nowMillis: number): ValidationContext {
  return { maxEpochMillis: nowMillis + MAX_FUTURE_SKEW_MILLIS };
}

/**
 * Epoch milliseconds → the value Firehose takes for an Iceberg `timestamp` column when it converts a
 * JSON record: the Firehose developer guide's page on the data types of Iceberg destinations asks for
 * timestamps in microseconds — a JSON number of microseconds since the epoch (UTC), which is also how
 * Iceberg stores them. Source: https://docs.aws.amazon.com/firehose/latest/dev/apache-iceberg-destination-supp.html
 * The milliseconds survive exactly: 1700000000123 → 1700000000123000 (2023-11-14 22:13:20.123), and
 * every value in the accepted window stays far below 2^53.
 */
export function epochMillisToIcebergTimestamp(epochMillis: number): number {
  return epochMillis * 1000;
}

/** A normalised value: text, a number, or null for API Gateway's `-`. */
export type AccessLogValue = string | number | null;
/** One normalised access-log row, keyed by column name, in field-list order. */
export type AccessLogRow = Readonly<Record<string, AccessLogValue>>;
/** The outcome of validating one parsed access log. */
export type AccessLogValidation =
  | { readonly ok: true; readonly row: AccessLogRow }
  | { readonly ok: false; readonly reason: string; readonly requestId?: string };

/** An access-log schema compiled from a field list. */
export interface CompiledAccessLogSchema {
  /** Column names, in output order. */
  readonly columns: readonly string[];
  /** Validates and normalises one parsed JSON value. */
  validate(value: unknown, context: ValidationContext): AccessLogValidation;
  /** The JSON text of a normalised row (columns in field-list order, no trailing newline). */
  serialise(row: AccessLogRow): string;
  /**
   * The fast path, on the UTF-8 bytes `input[start, end)` of a line in the exact layout API Gateway
   * writes: `{"f1":"v1","f2":"v2",…}` in field-list order, no whitespace, no escape sequence, no
   * control character, an optional final newline. Writes the normalised JSON (no newline) to `output`
   * from `outputStart` and returns where it ends; the bytes are those of
   * `serialise(validate(JSON.parse(text)).row)`. Returns -1 — having written garbage — when the line is
   * not in that layout, not valid UTF-8 or not valid: the caller then takes the general path, which
   * also says why. `output` needs room for {@link maxCanonicalGrowth} bytes more than the input.
   */
  normaliseCanonical(input: Uint8Array, start: number, end: number, output: Uint8Array, outputStart: number, context: ValidationContext): number;
  /** How many bytes longer than its input the output of `normaliseCanonical` can be. */
  readonly maxCanonicalGrowth: number;
}

/** Checks `text[start, end)` (never `-`); returns a reason when invalid. */
type ValueCheck = (text: string, start: number, end: number, context: ValidationContext) => string | undefined;

interface CompiledField {
  readonly name: string;
  readonly type: AccessLogFieldType;
  readonly nullable: boolean;
  /** The general path's check of a value. */
  readonly check: ValueCheck;
  /** Shortest accepted `string` (0 or 1). */
  readonly minLength: number;
  /** Accepted `integer` / `epoch_millis` range; the latter is further capped by the context. */
  readonly min: number;
  readonly max: number;
  /** What precedes the value's opening quote in a canonical line: the bytes of `{"name":"` or `,"name":"`. */
  readonly canonicalPrefix: Uint8Array;
  /** The output before a value: `{"name":` or `,"name":` (as text and as bytes). */
  readonly outputPrefix: string;
  readonly outputPrefixBytes: Uint8Array;
  readonly reasons: {
    readonly missing: string;
    readonly absentButRequired: string;
    readonly notAString: string;
    readonly malformedUnicode: string;
  };
}

const DASH = 0x2d;
const DIGIT_0 = 0x30;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const CLOSING_BRACE = 0x7d;
const NULL_BYTES = Buffer.from('null', 'latin1');
/** Longest textual IP address: an IPv6 address with an embedded IPv4 suffix. */
const MAX_IP_LENGTH = 45;
/** An unpaired UTF-16 surrogate (in decoded UTF-8 only reachable through a `\uD800`-style escape). */
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;
/** Whether a string holds no unpaired surrogate: the native `isWellFormed` (Node 20+) or a regex. */
const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (text) => !UNPAIRED_SURROGATE.test(text);
/** What a request id must look like to be logged; anything else might be payload. */
const LOGGABLE_REQUEST_ID = /^[A-Za-z0-9-]{1,128}$/;

function integerCheck(name: string, min: number, max: number, belowReason: string, aboveReason: string): ValueCheck {
  const notDigits = `${name}: not a decimal integer`;
  const leadingZero = `${name}: has a leading zero`;
  return (text, start, end, context) => {
    if (start === end) return notDigits;
    let value = 0;
    for (let i = start; i < end; i++) {
      const digit = text.charCodeAt(i) - DIGIT_0;
      if (digit < 0 || digit > 9) return notDigits;
      value = value * 10 + digit;
    }
    if (end - start > 1 && text.charCodeAt(start) === DIGIT_0) return leadingZero;
    if (value < min) return belowReason;
    return value > upperBound(max, context) ? aboveReason : undefined;
  };
}

/** The upper bound of an integer field: its own, or for epoch fields (max = ∞) the context's. */
function upperBound(max: number, context: ValidationContext): number {
  return max === Number.POSITIVE_INFINITY ? context.maxEpochMillis : max;
}

function compileRules(field: AccessLogField): Pick<CompiledField, 'check' | 'minLength' | 'min' | 'max'> {
  const { name } = field;
  switch (field.type) {
    case 'string': {
      const minLength = field.nullable ? 0 : 1;
      const empty = `${name}: empty`;
      const tooLong = `${name}: longer than ${MAX_STRING_LENGTH} characters`;
      const check: ValueCheck = (_text, start, end) => {
        const length = end - start;
        if (length < minLength) return empty;
        return length > MAX_STRING_LENGTH ? tooLong : undefined;
      };
      return { check, minLength, min: 0, max: 0 };
    }
    case 'integer': {
      const [min, max] = INTEGER_RANGES[name] ?? [0, MAX_INTEGER];
      const outOfRange = `${name}: outside ${min}..${max}`;
      return { check: integerCheck(name, min, max, outOfRange, outOfRange), minLength: 1, min, max };
    }
    case 'epoch_millis': {
      const min = MIN_REQUEST_TIME_MILLIS;
      const max = Number.POSITIVE_INFINITY;
      const check = integerCheck(name, min, max, `${name}: before 2015-01-01`, `${name}: more than a day in the future`);
      return { check, minLength: 1, min, max };
    }
    case 'ip': {
      const invalid = `${name}: not an IPv4 or IPv6 address`;
      const check: ValueCheck = (text, start, end) => {
        if (end - start > MAX_IP_LENGTH) return invalid;
        const candidate = start === 0 && end === text.length ? text : text.slice(start, end);
        return isIP(candidate) === 0 ? invalid : undefined;
      };
      return { check, minLength: 1, min: 0, max: 0 };
    }
    default: {
      const unsupported: never = field.type;
      throw new Error(`access-log field ${name}: unsupported type ${String(unsupported)}`);
    }
  }
}

function compileField(field: AccessLogField, index: number): CompiledField {
  const quotedName = JSON.stringify(field.name);
  const opener = index === 0 ? '{' : ',';
  const outputPrefix = `${opener}${quotedName}:`;
  return {
    name: field.name,
    type: field.type,
    nullable: field.nullable,
    ...compileRules(field),
    canonicalPrefix: Buffer.from(`${outputPrefix}"`, 'utf8'),
    outputPrefix,
    outputPrefixBytes: Buffer.from(outputPrefix, 'utf8'),
    reasons: {
      missing: `${field.name}: missing`,
      absentButRequired: `${field.name}: "${ABSENT_VALUE}" (no value) in a required field`,
      notAString: `${field.name}: not a JSON string`,
      malformedUnicode: `${field.name}: contains an unpaired surrogate (not valid Unicode)`,
    },
  };
}

/**
 * The request id of a parsed record when it is present and looks like a request id (letters, digits
 * and dashes, at most 128): only then is it safe to log; anything else might be payload.
 */
export function loggableRequestId(record: Readonly<Record<string, unknown>>): string | undefined {
  const requestId = record.request_id;
  return typeof requestId === 'string' && LOGGABLE_REQUEST_ID.test(requestId) ? requestId : undefined;
}

function normalisedValue(field: CompiledField, text: string): AccessLogValue {
  switch (field.type) {
    case 'integer':
      return Number(text);
    case 'epoch_millis':
      return epochMillisToIcebergTimestamp(Number(text));
    default:
      return text;
  }
}

function copyBytes(source: Uint8Array, target: Uint8Array, at: number): number {
  for (let i = 0; i < source.length; i++) target[at + i] = source[i] as number;
  return at + source.length;
}

/** Whether `bytes[start, end)` is a dotted-quad IPv4 address exactly as `isIPv4` accepts it. */
function isIPv4Bytes(bytes: Uint8Array, start: number, end: number): boolean {
  let parts = 0;
  let i = start;
  while (i < end) {
    const partStart = i;
    let value = 0;
    while (i < end && i - partStart < 4) {
      const digit = (bytes[i] as number) - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
      i++;
    }
    const digits = i - partStart;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && bytes[partStart] === DIGIT_0)) return false;
    parts++;
    if (i === end) break;
    if (bytes[i] !== 0x2e || parts === 4) return false;
    i++;
    if (i === end) return false;
  }
  return parts === 4;
}

/**
 * Compiles a field list (by default {@link ACCESS_LOG_FIELDS}) into an {@link CompiledAccessLogSchema}.
 * Field names must be unique.
 */
export function compileAccessLogSchema(fieldList: readonly AccessLogField[] = ACCESS_LOG_FIELDS): CompiledAccessLogSchema {
  const fields = fieldList.map(compileField);
  const columns = fields.map((field) => field.name);
  if (fields.length === 0) throw new Error('access-log fields: the list is empty');
  if (new Set(columns).size !== columns.length) throw new Error('access-log fields: duplicate field name');
  // `"-"` → `null` and `"123"` → `123000` each add one byte; nothing else grows.
  const maxCanonicalGrowth = fields.filter((field) => field.nullable || field.type === 'epoch_millis').length;

  function validate(value: unknown, context: ValidationContext): AccessLogValidation {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, reason: 'not a JSON object' };
    }
    const record = value as Readonly<Record<string, unknown>>;
    const row: Record<string, AccessLogValue> = {};
    for (const field of fields) {
      const raw = record[field.name];
      let reason: string | undefined;
      if (typeof raw !== 'string') {
        reason = raw === undefined || !Object.hasOwn(record, field.name) ? field.reasons.missing : field.reasons.notAString;
      } else if (raw.length === 1 && raw.charCodeAt(0) === DASH) {
        if (field.nullable) {
          row[field.name] = null;
          continue;
        }
        reason = field.reasons.absentButRequired;
      } else {
        reason = field.check(raw, 0, raw.length, context);
        if (reason === undefined && field.type === 'string' && !isWellFormed(raw)) reason = field.reasons.malformedUnicode;
      }
      if (reason !== undefined) {
        const requestId = loggableRequestId(record);
        return requestId === undefined ? { ok: false, reason } : { ok: false, reason, requestId };
      }
      row[field.name] = normalisedValue(field, raw as string);
    }
    return { ok: true, row };
  }

  function serialise(row: AccessLogRow): string {
    let json = '';
    for (const field of fields) {
      const value = row[field.name];
      json += field.outputPrefix;
      json += value === null || value === undefined ? 'null' : typeof value === 'number' ? String(value) : JSON.stringify(value);
    }
    return `${json}}`;
  }

  function normaliseCanonical(input: Uint8Array, start: number, end: number, output: Uint8Array, outputStart: number, context: ValidationContext): number {
    if (end > start && input[end - 1] === NEWLINE) end--;
    if (!isUtf8(input.subarray(start, end))) return -1;
    let i = start;
    let o = outputStart;
    for (const field of fields) {
      const prefix = field.canonicalPrefix;
      if (i + prefix.length > end) return -1;
      for (let k = 0; k < prefix.length; k++) if (input[i + k] !== prefix[k]) return -1;
      i += prefix.length;
      const valueStart = i;
      if (input[i] === DASH && input[i + 1] === QUOTE && i + 1 < end) {
        if (!field.nullable) return -1;
        o = copyBytes(NULL_BYTES, output, copyBytes(field.outputPrefixBytes, output, o));
        i += 2;
        continue;
      }
      if (field.type === 'integer' || field.type === 'epoch_millis') {
        o = copyBytes(field.outputPrefixBytes, output, o);
        let value = 0;
        for (;;) {
          if (i >= end) return -1;
          const byte = input[i] as number;
          if (byte === QUOTE) break;
          const digit = byte - DIGIT_0;
          if (digit < 0 || digit > 9) return -1;
          value = value * 10 + digit;
          output[o++] = byte;
          i++;
        }
        const digits = i - valueStart;
        if (digits === 0 || (digits > 1 && input[valueStart] === DIGIT_0)) return -1;
        if (value < field.min || value > upperBound(field.max, context)) return -1;
        if (field.type === 'epoch_millis') {
          output[o++] = DIGIT_0;
          output[o++] = DIGIT_0;
          output[o++] = DIGIT_0;
        }
      } else {
        o = copyBytes(prefix, output, o);
        let units = 0;
        for (;;) {
          if (i >= end) return -1;
          const byte = input[i] as number;
          if (byte === QUOTE) break;
          if (byte < 0x20 || byte === BACKSLASH) return -1;
          // UTF-16 code units: one per leading byte, two for a four-byte sequence.
          if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
          output[o++] = byte;
          i++;
        }
        output[o++] = QUOTE;
        if (field.type === 'string') {
          if (units < field.minLength || units > MAX_STRING_LENGTH) return -1;
        } else {
          const length = i - valueStart;
          if (length === 0 || length > MAX_IP_LENGTH || units !== length) return -1;
          if (!isIPv4Bytes(input, valueStart, i) && isIP(Buffer.from(input.buffer, input.byteOffset + valueStart, length).toString('latin1')) === 0) return -1;
        }
      }
      i++;
    }
    if (i !== end - 1 || input[i] !== CLOSING_BRACE) return -1;
    output[o++] = CLOSING_BRACE;
    return o;
  }

  return { columns, validate, serialise, normaliseCanonical, maxCanonicalGrowth };
}

/** The schema of {@link ACCESS_LOG_FIELDS}, compiled once at module load. */
export const ACCESS_LOG_SCHEMA: CompiledAccessLogSchema = compileAccessLogSchema();

/** Validates and normalises one parsed access log against {@link ACCESS_LOG_SCHEMA}. */
export function validateAccessLog(value: unknown, context: ValidationContext): AccessLogValidation {
  return ACCESS_LOG_SCHEMA.validate(value, context);
}
