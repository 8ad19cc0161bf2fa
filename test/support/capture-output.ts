/** Runs `run` with stdout and stderr captured (what Powertools' Logger and Metrics print). */
async function withCapturedOutput<R>(run: (chunks: string[]) => Promise<R>): Promise<R> {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return await run(chunks);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** Everything written to stdout and stderr while `run` runs, and its value (its error is rethrown). */
export function captureOutput<T>(run: () => Promise<T>): Promise<{ value: T; output: string }> {
  return withCapturedOutput(async (chunks) => ({ value: await run(), output: chunks.join('') }));
}

/** Like {@link captureOutput}, but an error of `run` is returned with the output instead of thrown. */
export function captureOutcome<T>(run: () => Promise<T>): Promise<{ value?: T; error?: unknown; output: string }> {
  return withCapturedOutput(async (chunks) => {
    try {
      return { value: await run(), output: chunks.join('') };
    } catch (error) {
      return { error, output: chunks.join('') };
    }
  });
}
