import type { Compilable, CompiledQuery } from 'kysely';

/**
 * A statement that Kysely builds and compiles once, then runs again and
 * again with new values. Building and compiling the same few queries on
 * every turn was about a third of a stored turn's CPU in relay profiles.
 *
 * `build` is called once, with a placeholder for each value; it must hand
 * every value to Kysely as it is (no arithmetic or string work on it), and
 * every call must pass the same keys. Each parameter of the compiled SQL
 * that is a placeholder is filled from the call's values (undefined becomes
 * null); the others are constants of the statement and kept.
 */
export function statementTemplate<Values extends object>(build: (values: Values) => Compilable): (values: Values) => Compilable {
  let template: { compiled: CompiledQuery; slots: readonly Slot[] } | undefined;
  return (values) => ({
    compile() {
      template ??= compileTemplate(build, Object.keys(values));
      const parameters = template.slots.map((slot) =>
        slot.kind === 'value' ? ((values as Record<string, unknown>)[slot.name] ?? null) : slot.constant,
      );
      return { ...template.compiled, parameters };
    },
  });
}

type Slot = { kind: 'value'; name: string } | { kind: 'constant'; constant: unknown };

const placeholderPrefix = '\u0000parley-value:';

function compileTemplate<Values extends object>(build: (values: Values) => Compilable, names: string[]) {
  const placeholders = Object.fromEntries(names.map((name) => [name, `${placeholderPrefix}${name}`])) as Values;
  const compiled = build(placeholders).compile();
  if (compiled.sql.includes(placeholderPrefix)) throw new Error('statementTemplate: a value was written into the SQL text');
  const slots = compiled.parameters.map((parameter): Slot => {
    if (typeof parameter === 'string' && parameter.startsWith(placeholderPrefix)) {
      return { kind: 'value', name: parameter.slice(placeholderPrefix.length) };
    }
    return { kind: 'constant', constant: parameter };
  });
  const unused = names.filter((name) => !slots.some((slot) => slot.kind === 'value' && slot.name === name));
  if (unused.length > 0) throw new Error(`statementTemplate: values not passed through as parameters: ${unused.join(', ')}`);
  return { compiled, slots };
}
