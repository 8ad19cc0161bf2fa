import { parseArgs } from 'node:util';

/**
 * What every command of `scripts/` shares when it reads its options: `parseArgs` tokenizes in
 * non-strict mode and these rules check the tokens, so the messages are ours (and stable across Node
 * versions) rather than parseArgs' exceptions. Pure: no I/O.
 */

/** A problem of the command line: one line naming the option and what is allowed. */
export class OptionError extends Error {}

/** The options a command declares, as `parseArgs` takes them (`help` among them). */
export type OptionConfig = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

/** The options given, by name: a string value, or `true` for a flag. */
export type RawOptions<C extends OptionConfig> = Partial<Record<keyof C & string, string | true>>;

/** Rules that differ between commands. */
export interface TokenRules {
  /** A value such as `-5` given as a separate argument is a value (validation names the range), not a missing one. @default false */
  readonly negativeNumberValues?: boolean;
  /** The same option may be given again (the last one counts). @default false: an error */
  readonly repeats?: boolean;
}

/** The outcome of parsing a command line: options, one error line, or a request for help. */
export type ParseOutcome<T> = { ok: true; options: T } | { ok: false; error: string } | { help: true };

/**
 * Reads the raw options of `argv` (the arguments after the script name), or `'help'` when `--help`/`-h`
 * is anywhere on the line (it wins over everything else, even invalid options). Positional arguments,
 * unknown options, a flag with a value and an option without one are {@link OptionError}s.
 */
export function readRawOptions<C extends OptionConfig>(argv: readonly string[], config: C, rules: TokenRules = {}): RawOptions<C> | 'help' {
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return 'help';
  const raw: RawOptions<C> = {};
  for (const token of tokens) {
    if (token.kind === 'positional') throw new OptionError(`Unexpected argument '${token.value}': all inputs are --options.`);
    if (token.kind !== 'option') continue;
    if (!Object.hasOwn(config, token.name)) {
      throw new OptionError(`Unknown option '${token.rawName}'. Allowed: ${Object.keys(config).map((name) => `--${name}`).join(', ')}.`);
    }
    const name = token.name as keyof C & string;
    if (!rules.repeats && raw[name] !== undefined) throw new OptionError(`Option --${name} is given more than once.`);
    if (config[name].type === 'boolean') {
      if (token.value !== undefined) throw new OptionError(`Option --${name} is a flag and takes no value (got '${token.value}').`);
      raw[name] = true;
      continue;
    }
    // Non-strict parseArgs takes the next argument as the value even when it is an option
    // (`--from --to x`): that is a missing value, as strict mode would say.
    const looksLikeOption = !token.inlineValue && (rules.negativeNumberValues ? /^-(?!\d)/ : /^-/).test(token.value ?? '');
    if (token.value === undefined || looksLikeOption) {
      throw new OptionError(`Option --${name} needs a value (use --${name}=<value> for a value starting with '-').`);
    }
    raw[name] = token.value;
  }
  return raw;
}

/**
 * Parses a command line: raw options, then the command's own `validate`, which throws
 * {@link OptionError}s. Never throws for anything on the command line.
 */
export function parseCommandLine<C extends OptionConfig, T>(argv: readonly string[], config: C, validate: (raw: RawOptions<C>) => T, rules?: TokenRules): ParseOutcome<T> {
  try {
    const raw = readRawOptions(argv, config, rules);
    if (raw === 'help') return { help: true };
    return { ok: true, options: validate(raw) };
  } catch (error) {
    if (error instanceof OptionError) return { ok: false, error: error.message };
    throw error;
  }
}

/**
 * The query engine a command runs on (`--engine`, else `fallback`), refusing options that belong to
 * the other engine.
 */
export function chooseEngine<N extends string>(
  given: string | undefined,
  fallback: 'duckdb' | 'athena',
  engineOnly: Readonly<Record<'duckdb' | 'athena', readonly N[]>>,
  isGiven: (name: N) => boolean,
): 'duckdb' | 'athena' {
  const engine = given ?? fallback;
  if (engine !== 'duckdb' && engine !== 'athena') throw new OptionError(`Invalid --engine '${engine}': must be duckdb or athena.`);
  const other = engine === 'duckdb' ? 'athena' : 'duckdb';
  const misplaced = engineOnly[other].find(isGiven);
  if (misplaced !== undefined) throw new OptionError(`Option --${misplaced} applies only to --engine ${other} (this run uses ${engine}).`);
  return engine;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** The AWS region of an Athena run: `--region`, else AWS_REGION. */
export function athenaRegion(given: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const region = given ?? (env.AWS_REGION?.trim() || undefined);
  if (region === undefined) throw new OptionError('Missing option --region (or AWS_REGION): required with --engine athena.');
  if (!REGION.test(region)) throw new OptionError(`Invalid ${given === undefined ? 'AWS_REGION' : '--region'} '${region}': must be an AWS region such as eu-west-1.`);
  return region;
}

/** An option's value, trimmed; undefined when it was not given. */
export function optionText<C extends OptionConfig>(raw: RawOptions<C>, name: keyof C & string): string | undefined {
  const value = raw[name];
  return value === undefined ? undefined : String(value).trim();
}

/** An option's value, trimmed; given but empty is an {@link OptionError}. */
export function nonEmptyOption<C extends OptionConfig>(raw: RawOptions<C>, name: keyof C & string): string | undefined {
  const value = optionText(raw, name);
  if (value !== undefined && value === '') throw new OptionError(`Option --${name} must not be empty.`);
  return value;
}

/** How a command names itself in its messages. */
export interface CommandNames {
  /** The prefix of its error lines, e.g. `invoice`. */
  readonly name: string;
  /** What to run for its help, e.g. `npm run invoice -- --help`. */
  readonly help: string;
  /** The help text (`--help`). */
  readonly usage: string;
}

/**
 * The options of a parsed command line, or the exit code once `--help` was printed (0) or the one-line
 * error with a pointer to the help (2).
 */
export function optionsOrExitCode<T>(parsed: ParseOutcome<T>, command: CommandNames): { readonly options: T } | { readonly exitCode: number } {
  if ('help' in parsed) {
    process.stdout.write(command.usage);
    return { exitCode: 0 };
  }
  if (!parsed.ok) {
    process.stderr.write(`${command.name}: ${parsed.error} Run ${command.help} for the options.\n`);
    return { exitCode: 2 };
  }
  return { options: parsed.options };
}
