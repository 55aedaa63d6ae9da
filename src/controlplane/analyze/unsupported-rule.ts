/** One entry of the unsupported-fields table (unsupported-fields.ts, unsupported-kinds.ts): a field path and what Trellis does instead. */
export interface Rule {
  /** Path from the object's root; '*' matches every index of a list. */
  readonly path: readonly string[];
  /** What is not implemented and what Trellis does instead. */
  readonly message: string;
  /** When set, the finding applies only if this holds of the value (e.g. lists longer than one) and the object holding it. */
  readonly when?: (value: unknown, parent: unknown) => boolean;
}
