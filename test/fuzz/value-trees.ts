import fc from 'fast-check';

/**
 * JSON-like values of any shape and modest depth built from `leaf`: arrays
 * and objects whose keys are mostly the fields the server reads (so the
 * fuzz reaches past "unknown field"), nested into each other.
 */
export function valueTrees(leaf: fc.Arbitrary<unknown>, fieldNames: readonly string[]): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 5 }),
    ),
  }));
  return value;
}
