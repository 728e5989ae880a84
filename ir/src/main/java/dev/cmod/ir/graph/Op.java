package dev.cmod.ir.graph;

/**
 * The operators of the IR, the key of every per-op table: the definitions ({@link
 * dev.cmod.ir.op.OpDefs}: operands, attributes, inference, cost), the interpreter's kernels and the
 * ONNX lowerings in backend-onnx. Each constant knows its arity.
 */
public enum Op {
  // leaves
  INPUT(0, 0),
  PARAM(0, 0),
  CONST(0, 0),
  // elementwise binary (NumPy broadcasting)
  ADD(2, 2),
  SUB(2, 2),
  MUL(2, 2),
  DIV(2, 2),
  POW(2, 2),
  MAXIMUM(2, 2),
  MINIMUM(2, 2),
  /** The remainder; attribute {@code fmod}: the sign of the dividend (C) or of the divisor. */
  MOD(2, 2),
  // logical (bool operands)
  AND(2, 2),
  OR(2, 2),
  XOR(2, 2),
  // comparisons (bool results)
  LESS(2, 2),
  LESS_EQUAL(2, 2),
  GREATER(2, 2),
  GREATER_EQUAL(2, 2),
  EQUAL(2, 2),
  NOT_EQUAL(2, 2),
  // elementwise unary
  NEG(1, 1),
  EXP(1, 1),
  LOG(1, 1),
  SQRT(1, 1),
  ABS(1, 1),
  TANH(1, 1),
  SIGMOID(1, 1),
  RELU(1, 1),
  GELU(1, 1),
  SILU(1, 1),
  FLOOR(1, 1),
  CEIL(1, 1),
  /** To the nearest integer, halves to even. */
  ROUND(1, 1),
  SIGN(1, 1),
  RECIPROCAL(1, 1),
  SIN(1, 1),
  COS(1, 1),
  TAN(1, 1),
  ASIN(1, 1),
  ACOS(1, 1),
  ATAN(1, 1),
  SINH(1, 1),
  COSH(1, 1),
  ASINH(1, 1),
  ACOSH(1, 1),
  ATANH(1, 1),
  /** Logical negation of a bool tensor. */
  NOT(1, 1),
  /** A bool tensor: where the operand is NaN. */
  IS_NAN(1, 1),
  /** A bool tensor: where the operand is infinite (attributes: which signs count). */
  IS_INF(1, 1),
  ERF(1, 1),
  WHERE(3, 3),
  MATMUL(2, 2),
  // shape
  RESHAPE(1, 1),
  TRANSPOSE(1, 1),
  CONCAT(1, Integer.MAX_VALUE),
  SPLIT(1, 1),
  SLICE(1, 1),
  UNSQUEEZE(1, 1),
  SQUEEZE(1, 1),
  BROADCAST(1, 1),
  // reductions
  REDUCE_SUM(1, 1),
  REDUCE_MEAN(1, 1),
  REDUCE_MAX(1, 1),
  REDUCE_MIN(1, 1),
  REDUCE_PROD(1, 1),
  ARGMAX(1, 1),
  /** The running sum along an axis (attributes: exclusive, reverse). */
  CUMSUM(1, 1),
  // neural
  SOFTMAX(1, 1),
  LOG_SOFTMAX(1, 1),
  LAYER_NORM(3, 3),
  RMS_NORM(2, 2),
  ATTENTION(3, 4),
  CONV1D(2, 3),
  CONV2D(2, 3),
  /**
   * The transposed convolution over any number of spatial axes (the gradient of a convolution with
   * respect to its input; ONNX's ConvTranspose): weight {@code [C, O / groups, k...]}, per-axis
   * strides, pads, dilations and output padding.
   */
  CONV_TRANSPOSE(2, 3),
  AVG_POOL2D(1, 1),
  MAX_POOL2D(1, 1),
  UPSAMPLE(1, 1),
  PATCHIFY(1, 1),
  TAKE(2, 2),
  /**
   * Gathers along an axis by an index tensor of the data's rank: {@code out[i] = data[i with axis
   * replaced by indices[i]]}, negative indices counting from the end (ONNX's GatherElements).
   */
  GATHER_ELEMENTS(2, 2),
  /**
   * The data with the updates written (or added, multiplied) at the positions an index tensor gives
   * along an axis, the inverse of {@link #GATHER_ELEMENTS} (ONNX's ScatterElements).
   */
  SCATTER_ELEMENTS(3, 3),
  ONE_HOT(1, 1),
  COSINE(2, 2),
  TOPK(1, 1),
  CAST(1, 1),
  /**
   * The positions of the true elements of a 1-D bool tensor, ascending, as i64; how many there are
   * is known only at run time, so the result's one axis is the symbol named by attribute {@code
   * count}. Made by sparse routing (the tokens routed to one expert), not by the language.
   */
  NONZERO(1, 1),
  /**
   * {@code data} with {@code updates[i]} added to row {@code ids[i]} for each i, in order: the
   * weighted scatter-add back of sparse routing. Operands: data {@code [n, ...]}, ids {@code
   * i64[m]}, updates {@code [m, ...]}.
   */
  SCATTER_ADD(3, 3),
  /**
   * Structured routing (a mixture of experts): operand 0 is the gates {@code [..., n]}, operands 1
   * to n the experts' outputs; the result is {@code Σ_e y_e · gates[..., e:e+1]}. Attributes:
   * {@code mode} (topk, soft or index, how the gates were made) and {@code ids} (the node ids its
   * dense form takes). Made by elaboration so that passes see the routing; made sparse dispatch by
   * -O2's sparse-routing where that is cheaper, else lowered to the dense form by lower-routing.
   */
  ROUTE(2, Integer.MAX_VALUE),
  /**
   * An opaque piece of an imported ONNX model that the importer does not raise into the IR (an
   * operator it does not know, control flow, a foreign domain): operands are the region's inputs,
   * outputs its outputs; attribute {@code region} holds the region as a self-contained ONNX model
   * ({@link OnnxRegion}). The backend emits it inline, the interpreter runs it on ONNX Runtime
   * through an {@link dev.cmod.ir.interp.OpaqueRegionRunner}.
   */
  ONNX_REGION(1, Integer.MAX_VALUE);

  public final int minArity;
  public final int maxArity;

  Op(int minArity, int maxArity) {
    this.minArity = minArity;
    this.maxArity = maxArity;
  }

  public boolean isLeaf() {
    return maxArity == 0;
  }

  public boolean isElementwiseBinary() {
    return ordinal() >= ADD.ordinal() && ordinal() <= NOT_EQUAL.ordinal();
  }

  public boolean isComparison() {
    return ordinal() >= LESS.ordinal() && ordinal() <= NOT_EQUAL.ordinal();
  }

  public boolean isElementwiseUnary() {
    return ordinal() >= NEG.ordinal() && ordinal() <= ERF.ordinal();
  }

  /** Lower-case name used by printers. */
  public String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
