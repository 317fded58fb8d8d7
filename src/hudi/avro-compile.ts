/**
 * What the compiled Avro encoder and decoder share: named-type resolution, the "not covered,
 * use avsc" signal, and a per-schema-text cache of compiled codecs.
 */

/** Thrown while compiling a schema the fast path does not cover; turns into `undefined`. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

/** Avro full name of a named type declared in namespace `ns`. */
export function fullName(name: string, ns: string | undefined): string {
  return name.includes('.') || !ns ? name : `${ns}.${name}`;
}

/** Runs a compiler; undefined when it met something `Unsupported`. */
export function orUnsupported<T>(compile: () => T): T | undefined {
  try {
    return compile();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** Caches a compiler by schema JSON text (the same header schema repeats on every block). */
export function bySchemaText<T>(compile: (schema: unknown) => T | undefined): (text: string) => T | undefined {
  const cache = new Map<string, T | null>();
  return (text) => {
    let c = cache.get(text);
    if (c === undefined) {
      c = compile(JSON.parse(text)) ?? null;
      cache.set(text, c);
    }
    return c ?? undefined;
  };
}
