/**
 * Group commit for calls that share a key: a call that arrives while a run for its key is in
 * flight waits, and the calls that waited go to the next run together. An idle key runs a call at
 * once, so coalescing adds no latency when there is nothing to coalesce; under load, one run (one
 * round trip, one statement, one commit) serves every call that arrived during the previous one.
 */

export interface CoalesceLimit<I> {
  /** What one input weighs (e.g. its items); a run takes waiting calls in order up to `max`, and always at least one. */
  weight(input: I): number;
  max: number;
}

/**
 * Wraps `run`, which serves several inputs of one key at once and answers one output per input,
 * in order. If a run fails, every call in it fails with that error: a run that must keep one
 * input's failure from its neighbours answers with outputs that say so.
 */
export function coalesce<I, O>(
  run: (key: string, inputs: I[]) => Promise<readonly O[]>,
  limit?: CoalesceLimit<I>,
): (key: string, input: I) => Promise<O> {
  interface Waiting {
    input: I;
    resolve: (output: O) => void;
    reject: (error: unknown) => void;
  }
  /** A key is present while a run for it is in flight; its list holds the calls for the next run. */
  const waitingFor = new Map<string, Waiting[]>();

  const take = (waiting: Waiting[]): Waiting[] => {
    if (!limit) return waiting.splice(0);
    let count = 1;
    let total = limit.weight(waiting[0]!.input);
    while (count < waiting.length && total + limit.weight(waiting[count]!.input) <= limit.max) total += limit.weight(waiting[count++]!.input);
    return waiting.splice(0, count);
  };

  const send = (key: string, waiting: Waiting[]) => {
    const batch = take(waiting);
    let running: Promise<readonly O[]>;
    try {
      running = run(key, batch.map((w) => w.input));
    } catch (error) {
      running = Promise.reject(error);
    }
    running
      .then(
        (outputs) => batch.forEach((w, i) => w.resolve(outputs[i]!)),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        if (waiting.length === 0) waitingFor.delete(key);
        else send(key, waiting);
      });
  };

  return (key, input) =>
    new Promise<O>((resolve, reject) => {
      const waiting = waitingFor.get(key);
      if (waiting) {
        waiting.push({ input, resolve, reject });
        return;
      }
      const mine = [{ input, resolve, reject }];
      waitingFor.set(key, mine);
      send(key, mine);
    });
}
