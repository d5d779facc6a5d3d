/** A value the engine does not know yet (during preview); the protocol layer maps its sentinel to this. */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Unknown = typeof UNKNOWN;

/** A property path and the reason it is invalid, as `Check` reports it. */
export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

export interface CheckResult<Inputs> {
  readonly inputs: Inputs;
  readonly failures: readonly CheckFailure[];
  /** Told to the user (the engine's log) without stopping the change. */
  readonly warnings?: readonly string[];
}

export interface DiffResult {
  readonly changes: boolean;
  /** Properties whose change needs a replacement. */
  readonly replaces: readonly string[];
  /** Every changed property. */
  readonly diffs: readonly string[];
}

export interface ReadResult<Inputs, Outputs> {
  readonly id: string;
  readonly inputs: Inputs;
  readonly outputs: Outputs;
}

/**
 * One resource token's logic, free of the wire protocol: inputs and outputs are plain values (secrets already
 * unwrapped, unknowns as `UNKNOWN`). `provider/` adapts these to the gRPC calls of the engine.
 */
export interface CustomResourceHandler<Inputs, Outputs> {
  /** `oldOutputs`: the state before this change (absent on create). */
  check(news: Record<string, unknown>, oldOutputs?: Record<string, unknown>): CheckResult<Inputs>;
  diff(olds: Inputs, news: Inputs): DiffResult;
  /** The id the inputs would get (undefined while some are unknown): a replacement that keeps it deletes first. */
  idOf(inputs: Inputs): string | undefined;
  create(name: string, inputs: Inputs): Promise<{ id: string; outputs: Outputs }>;
  /**
   * Undefined when the resource no longer exists (the engine then drops it from state). `recorded` are the
   * inputs in state (absent on import), for values the server does not return, such as passwords.
   */
  read(id: string, recorded?: Inputs, recordedOutputs?: Outputs): Promise<ReadResult<Inputs, Outputs> | undefined>;
  update(id: string, olds: Inputs, news: Inputs, oldOutputs: Outputs): Promise<Outputs>;
  /** Succeeds when the resource is already gone. */
  delete(id: string): Promise<void>;
}
