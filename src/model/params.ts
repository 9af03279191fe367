/**
 * Parameters as one flat Float32Array with named views (llm.c style), plus a
 * gradient buffer of the same layout. The optimizer works on the flat arrays;
 * layers work on the named views.
 */

/** Where one named parameter lives in the flat buffers, and its shape. */
export interface ParamSpec {
  /** Unique name, e.g. "blocks.0.lru.in_re.weight". */
  name: string;
  /** Shape, row-major (weights are [out, in]). */
  shape: number[];
  /** Receives weight decay (false for biases). */
  decay: boolean;
  /** Start in the flat buffer. */
  offset: number;
  /** Number of floats. */
  size: number;
}

/**
 * Reads a parameter's values by name, given the shape the layer expects: from
 * a ParamStore while training and evaluating, from an exported model's tensors
 * in the engine (which checks the shape). Layers own their names and shapes
 * and read themselves through one of these.
 */
export type ParamReader = (name: string, shape: number[]) => Float32Array;

/** Every parameter of a model in one flat buffer, with its gradient buffer and a view per name (declare, then allocate). */
export class ParamStore {
  readonly specs: ParamSpec[] = [];
  private readonly byName = new Map<string, ParamSpec>();
  private total = 0;
  private values_: Float32Array | null = null;
  private grads_: Float32Array | null = null;

  /** Declare a parameter (before `allocate`). Returns its spec. */
  declare(name: string, shape: number[], decay: boolean): ParamSpec {
    if (this.values_) throw new Error('ParamStore: declare after allocate');
    if (this.byName.has(name)) throw new Error(`ParamStore: duplicate parameter ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const spec: ParamSpec = { name, shape, decay, offset: this.total, size };
    this.total += size;
    this.specs.push(spec);
    this.byName.set(name, spec);
    return spec;
  }

  /** Allocate values (zeros) and gradients once all parameters are declared. */
  allocate(): void {
    this.values_ = new Float32Array(this.total);
    this.grads_ = new Float32Array(this.total);
  }

  /** Total number of floats in the buffer. */
  get length(): number {
    return this.total;
  }

  get values(): Float32Array {
    if (!this.values_) throw new Error('ParamStore: not allocated');
    return this.values_;
  }

  get grads(): Float32Array {
    if (!this.grads_) throw new Error('ParamStore: not allocated');
    return this.grads_;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  spec(name: string): ParamSpec {
    const s = this.byName.get(name);
    if (!s) throw new Error(`ParamStore: unknown parameter ${name}`);
    return s;
  }

  /** View of a parameter's values. */
  value(name: string): Float32Array {
    const s = this.spec(name);
    return this.values.subarray(s.offset, s.offset + s.size);
  }

  /** A {@link ParamReader} of this store's values (shapes as declared). */
  readonly read: ParamReader = (name) => this.value(name);

  /** View of a parameter's gradient. */
  grad(name: string): Float32Array {
    const s = this.spec(name);
    return this.grads.subarray(s.offset, s.offset + s.size);
  }

  zeroGrads(): void {
    this.grads.fill(0);
  }
}
