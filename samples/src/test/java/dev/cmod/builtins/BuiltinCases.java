package dev.cmod.builtins;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One tiny model per builtin of language.md section 8 (and per interesting form of it). Each case
 * declares its inputs with symbolic dims where that makes sense (an input {@code f32[seq, 8]} is
 * {@code f32[batch, seq, 8]} in the model) and two assignments of sizes to those symbols.
 */
final class BuiltinCases {
  private BuiltinCases() {}

  /** A case: the builtin it exercises, a model source, and two sets of symbolic sizes. */
  record Case(String name, String source, Map<String, Long> sizesA, Map<String, Long> sizesB) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final Map<String, Long> A =
      Map.of("batch", 2L, "seq", 3L, "len", 4L, "height", 4L, "width", 6L, "t", 10L);
  static final Map<String, Long> B =
      Map.of("batch", 3L, "seq", 7L, "len", 2L, "height", 8L, "width", 10L, "t", 17L);

  /** Odd image sizes, for pooling (floor of the output size). */
  static final Map<String, Long> ODD_A = Map.of("batch", 2L, "height", 5L, "width", 7L);

  static final Map<String, Long> ODD_B = Map.of("batch", 1L, "height", 9L, "width", 6L);

  private static final String AB = "  input a: f32[seq, 8]\n  input b: f32[seq, 8]\n";
  private static final String A1 = "  input a: f32[seq, 8]\n";
  private static final String IJ = "  input i: i64[seq]\n  input j: i64[seq]\n";
  private static final String IMG = "  input x: f32[3, height, width]\n";
  private static final String QKV =
      "  input q: f32[2, seq, 8]\n  input k: f32[2, seq, 8]\n  input v: f32[2, seq, 8]\n";

  private static String model(String decls, String body) {
    return "model T {\n" + decls + body + "\n}\n";
  }

  static List<Case> all() {
    List<Case> c = new ArrayList<>();
    // ---- elementwise arithmetic
    add(c, "add", AB, "  output y: f32[seq, 8] = a + b");
    add(
        c,
        "add_broadcast_param",
        A1,
        "  param bias: f32[8] = init.normal(1.0)\n  output y: f32[seq, 8] = a + bias");
    add(c, "add_scalar", A1, "  output y: f32[seq, 8] = 1.5 + a");
    add(c, "sub", AB, "  output y: f32[seq, 8] = a - b");
    add(c, "sub_broadcast_keep", A1, "  output y: f32[seq, 8] = a - mean(a, 1, keep = true)");
    add(c, "mul", AB, "  output y: f32[seq, 8] = a * b");
    add(c, "mul_scalar", A1, "  output y: f32[seq, 8] = a * 0.25");
    add(c, "div", AB, "  output y: f32[seq, 8] = a / (abs(b) + 0.5)");
    add(c, "div_scalar", A1, "  output y: f32[seq, 8] = 2.0 / (abs(a) + 1.0)");
    add(c, "neg", A1, "  output y: f32[seq, 8] = -a");
    // ---- elementwise functions
    add(c, "exp", A1, "  output y: f32[seq, 8] = exp(a)");
    add(c, "log", A1, "  output y: f32[seq, 8] = log(abs(a) + 1.0)");
    add(c, "sqrt", A1, "  output y: f32[seq, 8] = sqrt(abs(a) + 0.01)");
    add(c, "abs", A1, "  output y: f32[seq, 8] = abs(a)");
    add(c, "tanh", A1, "  output y: f32[seq, 8] = tanh(a)");
    add(c, "sigmoid", A1, "  output y: f32[seq, 8] = sigmoid(a)");
    add(c, "relu", A1, "  output y: f32[seq, 8] = relu(a)");
    add(c, "gelu", A1, "  output y: f32[seq, 8] = gelu(a * 2.0)");
    add(c, "gelu_tanh", A1, "  output y: f32[seq, 8] = gelu(a * 2.0, approx = \"tanh\")");
    add(c, "silu", A1, "  output y: f32[seq, 8] = silu(a)");
    add(c, "erf", A1, "  output y: f32[seq, 8] = erf(a)");
    add(c, "pow_scalar", A1, "  output y: f32[seq, 8] = pow(abs(a) + 0.5, 2.5)");
    add(c, "pow_integer_exponent", A1, "  output y: f32[seq, 8] = pow(a, 3)");
    add(c, "pow_tensor", AB, "  output y: f32[seq, 8] = pow(abs(a) + 0.5, b)");
    add(c, "pipe_unary", A1, "  output y: f32[seq, 8] = a |> tanh |> relu");
    add(c, "maximum", AB, "  output y: f32[seq, 8] = maximum(a, b)");
    add(c, "maximum_scalar", A1, "  output y: f32[seq, 8] = maximum(a, 0.0)");
    add(c, "minimum", AB, "  output y: f32[seq, 8] = minimum(a, b)");
    add(c, "minimum_scalar", A1, "  output y: f32[seq, 8] = minimum(0.5, a)");
    add(c, "where", AB, "  output y: f32[seq, 8] = where(a > b, a, b)");
    add(c, "where_scalar", A1, "  output y: f32[seq, 8] = where(a > 0.0, a, 0.1 * a)");
    add(c, "where_scalar_branch", A1, "  output y: f32[seq, 8] = where(a > 0.0, a, 0.0)");
    // ---- comparisons (integers, so that == and != are meaningful; one float case)
    add(c, "lt", IJ, "  output y = i < j");
    add(c, "le", IJ, "  output y = i <= j");
    add(c, "gt", IJ, "  output y = i > j");
    add(c, "ge", IJ, "  output y = i >= j");
    add(c, "eq", IJ, "  output y = i == j");
    add(c, "ne", IJ, "  output y = i != j");
    add(c, "lt_float", AB, "  output y = a < b");
    add(c, "ge_float_scalar", A1, "  output y = a >= 0.5");
    // ---- matmul
    add(
        c,
        "matmul_param",
        A1,
        "  param w: f32[8, 5] = init.normal(1.0)\n  output y: f32[seq, 5] = a @ w");
    add(c, "matmul_batched", AB, "  output y: f32[seq, seq] = a @ transpose(b, [0, 2, 1])");
    add(
        c,
        "matmul_vector",
        A1,
        "  param v: f32[8] = init.normal(1.0)\n  output y: f32[seq] = a @ v");
    add(c, "matmul_4d", QKV, "  output y: f32[2, seq, seq] = q @ transpose(k, [0, 1, 3, 2])");
    // ---- shape
    add(c, "reshape_infer", A1, "  output y = reshape(a, [batch, -1])");
    add(c, "reshape_symbolic", A1, "  output y: f32[seq, 2, 4] = reshape(a, [batch, seq, 2, 4])");
    add(c, "reshape_symbolic_product", A1, "  output y = reshape(a, [batch, seq * 2, 4])");
    add(c, "reshape_infer_inner", A1, "  output y = reshape(a, [batch, seq, -1, 2])");
    add(c, "transpose", A1, "  output y: f32[8, seq] = transpose(a, [0, 2, 1])");
    add(c, "transpose_4d", QKV, "  output y: f32[seq, 2, 8] = transpose(q, [0, 2, 1, 3])");
    add(c, "transpose_T", A1, "  output y: f32[8, seq] = a.T");
    add(c, "flatten", A1, "  output y = flatten(a, 1)");
    add(c, "flatten_inner", QKV, "  output y = flatten(q, 2)");
    add(
        c,
        "concat_symbolic",
        "  input a: f32[seq, 8]\n  input c: f32[len, 8]\n",
        "  output y = concat([a, c], 1)");
    add(
        c,
        "concat_last",
        "  input a: f32[seq, 8]\n  input d: f32[seq, 3]\n",
        "  output y: f32[seq, 19] = concat([a, d, a], -1)");
    add(
        c,
        "split_sizes",
        A1,
        "  let (p, r) = split(a, [3, 5], -1)\n  output y1: f32[seq, 3] = p\n  output y2: f32[seq, 5] = r");
    add(
        c,
        "split_equal",
        A1,
        "  let parts = split(a, 2)\n  output y1 = parts.0\n  output y2 = parts.1");
    add(
        c,
        "split_symbolic",
        "  input a: f32[seq, 8]\n  input c: f32[len, 8]\n",
        "  let (p, r) = split(concat([a, c], 1), [seq, len], 1)\n  output y1 = p * 2.0\n  output y2 = r * 3.0");
    add(c, "slice_symbolic_end", A1, "  output y = slice(a, 1, 1, seq)");
    add(c, "slice_last_axis", A1, "  output y: f32[seq, 4] = slice(a, -1, 2, 6)");
    add(c, "slice_negative_start", A1, "  output y = slice(a, 1, -2, seq)");
    add(c, "unsqueeze", A1, "  output y: f32[1, seq, 8] = unsqueeze(a, 1)");
    add(c, "unsqueeze_last", A1, "  output y: f32[seq, 8, 1] = unsqueeze(a, -1)");
    add(c, "squeeze", "  input x: f32[seq, 1, 8]\n", "  output y: f32[seq, 8] = squeeze(x, 2)");
    add(
        c,
        "broadcast",
        "  input x: f32[1, 8]\n  input a: f32[seq, 8]\n",
        "  output y: f32[seq, 8] = broadcast(x, [batch, seq, 8])\n  output z = a");
    add(
        c,
        "broadcast_param",
        A1,
        "  param p: f32[1, 8] = init.normal(1.0)\n  output y = broadcast(p, [batch, seq, 8]) + a");
    // ---- reductions
    add(c, "sum_axis", A1, "  output y: f32[8] = sum(a, 1)");
    add(c, "sum_keep", A1, "  output y: f32[seq, 1] = sum(a, -1, keep = true)");
    add(c, "sum_all", A1, "  output y = sum(a)");
    add(c, "mean_axis", A1, "  output y: f32[8] = mean(a, 1)");
    add(c, "mean_keep", A1, "  output y: f32[seq, 1] = mean(a, axis = -1, keep = true)");
    add(c, "max_axis", A1, "  output y: f32[seq] = max(a, -1)");
    add(c, "max_keep", A1, "  output y: f32[1, 8] = max(a, 1, keep = true)");
    add(c, "min_axis", A1, "  output y: f32[8] = min(a, 1)");
    add(c, "min_keep", A1, "  output y: f32[seq, 1] = min(a, -1, keep = true)");
    add(c, "argmax", A1, "  output y: i64[seq] = argmax(a, -1)");
    add(c, "argmax_keep", A1, "  output y: i64[1, 8] = argmax(a, 1, keep = true)");
    // ---- neural
    add(c, "softmax", A1, "  output y: f32[seq, 8] = softmax(a * 3.0)");
    add(c, "softmax_axis", A1, "  output y: f32[seq, 8] = softmax(a, axis = 1)");
    add(c, "log_softmax", A1, "  output y: f32[seq, 8] = log_softmax(a * 3.0)");
    add(c, "log_softmax_axis", A1, "  output y: f32[seq, 8] = log_softmax(a, 1)");
    add(
        c,
        "layer_norm",
        A1,
        "  param g: f32[8] = init.normal(1.0)\n  param bb: f32[8] = init.normal(1.0)\n"
            + "  output y: f32[seq, 8] = layer_norm(a * 2.0 + 1.0, g, bb)");
    add(
        c,
        "layer_norm_eps",
        A1,
        "  param g: f32[8] = init.ones\n  param bb: f32[8] = init.zeros\n"
            + "  output y: f32[seq, 8] = layer_norm(a * 0.1, g, bb, eps = 0.01)");
    add(
        c,
        "rms_norm",
        A1,
        "  param g: f32[8] = init.normal(1.0)\n  output y: f32[seq, 8] = rms_norm(a + 0.5, g)");
    add(
        c,
        "rms_norm_eps",
        A1,
        "  param g: f32[8] = init.ones\n  output y: f32[seq, 8] = rms_norm(a * 0.1, g, 0.05)");
    add(c, "attention", QKV, "  output y: f32[2, seq, 8] = attention(q, k, v)");
    add(
        c,
        "attention_causal",
        QKV,
        "  output y: f32[2, seq, 8] = attention(q, k, v, causal = true)");
    add(
        c,
        "attention_bool_mask",
        QKV + "  input m: f32[seq, seq]\n",
        "  output y: f32[2, seq, 8] = attention(q, k, v, mask = unsqueeze(m > -1.0, 1))");
    add(
        c,
        "attention_float_mask",
        QKV + "  input m: f32[seq, seq]\n",
        "  output y: f32[2, seq, 8] = attention(q, k, v, mask = unsqueeze(-2.0 * abs(m), 1))");
    add(
        c,
        "attention_causal_and_mask",
        QKV + "  input m: f32[seq, seq]\n",
        "  output y: f32[2, seq, 8] = attention(q, k, v, unsqueeze(-abs(m), 1), true)");
    add(
        c,
        "attention_cross",
        "  input q: f32[2, seq, 8]\n  input k: f32[2, len, 8]\n  input v: f32[2, len, 4]\n",
        "  output y: f32[2, seq, 4] = attention(q, k, v)");
    add(
        c,
        "conv1d",
        "  input x: f32[3, t]\n",
        "  param kw: f32[4, 3, 3] = init.normal(0.5)\n  param kb: f32[4] = init.normal(1.0)\n"
            + "  output y = conv1d(x, kw, kb)");
    add(
        c,
        "conv1d_stride_padding",
        "  input x: f32[3, t]\n",
        "  param kw: f32[4, 3, 3] = init.normal(0.5)\n"
            + "  param kb: f32[4] = init.normal(1.0)\n  output y = conv1d(x, kw, kb, stride = 2, padding = 1)");
    add(
        c,
        "conv1d_no_bias",
        "  input x: f32[3, t]\n",
        "  param kw: f32[2, 3, 5] = init.normal(0.5)\n  output y = conv1d(x, kw, padding = 2)");
    add(
        c,
        "conv2d",
        IMG,
        "  param kw: f32[4, 3, 3, 3] = init.normal(0.5)\n  param kb: f32[4] = init.normal(1.0)\n"
            + "  output y = conv2d(x, kw, kb)");
    add(
        c,
        "conv2d_stride_padding",
        IMG,
        "  param kw: f32[4, 3, 3, 3] = init.normal(0.5)\n  param kb: f32[4] = init.normal(1.0)\n"
            + "  output y = conv2d(x, kw, kb, stride = 2, padding = 1)");
    add(
        c,
        "conv2d_no_bias_stride",
        IMG,
        "  param kw: f32[2, 3, 2, 2] = init.normal(0.5)\n  output y = conv2d(x, kw, stride = 2)");
    addSized(c, "avg_pool2d", IMG, "  output y = avg_pool2d(x, 2)", A, B);
    addSized(c, "avg_pool2d_odd", IMG, "  output y = avg_pool2d(x, 2)", ODD_A, ODD_B);
    addSized(c, "avg_pool2d_stride", IMG, "  output y = avg_pool2d(x, 3, stride = 1)", A, B);
    addSized(c, "max_pool2d", IMG, "  output y = max_pool2d(x, 2)", A, B);
    addSized(c, "max_pool2d_odd", IMG, "  output y = max_pool2d(x, 2)", ODD_A, ODD_B);
    addSized(c, "max_pool2d_stride", IMG, "  output y = max_pool2d(x, 3, stride = 2)", A, B);
    add(c, "upsample2d", IMG, "  output y = upsample(x, 2)");
    add(c, "upsample1d", "  input x: f32[3, t]\n", "  output y = upsample(x, 3)");
    add(c, "patchify", IMG, "  output y = patchify(x, 2)");
    add(
        c,
        "take",
        "  input ids: i64[seq]\n",
        "  param table: f32[10, 4] = init.normal(1.0)\n  output y: f32[seq, 4] = take(table, ids)");
    add(
        c,
        "take_text",
        "  input ids: Text[seq] vocab 10\n",
        "  param table: f32[10, 4] = init.normal(1.0)\n  output y = take(table, ids)");
    add(c, "one_hot", "  input ids: i64[seq]\n", "  output y: f32[seq, 10] = one_hot(ids, 10)");
    add(c, "cosine", AB, "  output y: f32[seq] = cosine(a, b)");
    add(c, "cosine_axis", AB, "  output y: f32[8] = cosine(a, b, axis = 1)");
    add(
        c,
        "topk",
        A1,
        "  let (vals, idx) = topk(a, 3)\n  output v: f32[seq, 3] = vals\n  output i: i64[seq, 3] = idx");
    add(
        c,
        "topk_axis",
        A1,
        "  let r = topk(a, 2, axis = 1)\n  output v = r.values\n  output i = r.indices");
    add(c, "cast_float_to_int", A1, "  output y: i64[seq, 8] = cast(a * 4.0, i64)");
    add(
        c,
        "cast_int_to_float",
        "  input ids: i64[seq]\n",
        "  output y: f32[seq] = cast(ids, f32) * 0.5");
    add(c, "cast_bool_to_float", AB, "  output y: f32[seq, 8] = cast(a > b, f32)");
    // ---- edge forms: the batch axis itself, empty slices, broadcasting conditions, 3-D attention
    add(c, "reshape_collapse_batch", A1, "  output y = reshape(a, [-1, 8])");
    add(c, "concat_batch_axis", AB, "  output y = concat([a, b], 0)");
    add(c, "sum_batch_axis", A1, "  output y = sum(a, 0)");
    add(c, "softmax_batch_axis", A1, "  output y = softmax(a, axis = 0)");
    add(c, "transpose_batch_last", A1, "  output y = transpose(a, [1, 2, 0])");
    add(c, "unsqueeze_front", A1, "  output y = unsqueeze(a, 0)");
    add(c, "slice_empty", A1, "  output y = slice(a, 1, seq, seq)");
    add(
        c,
        "where_broadcast_cond",
        AB,
        "  output y: f32[seq, 8] = where(sum(a, -1, keep = true) > 0.0, a, b)");
    add(
        c,
        "attention_3d",
        "  input q: f32[seq, 8]\n  input k: f32[seq, 8]\n",
        "  output y: f32[seq, 8] = attention(q, k, k, causal = true)");
    add(
        c,
        "matmul_vector_left",
        A1,
        "  param v: f32[8] = init.normal(1.0)\n  output y: f32[seq] = v @ transpose(a, [0, 2, 1])");
    add(c, "topk_full_axis", A1, "  let r = topk(a, 8)\n  output v = r.0\n  output i = r.1");
    add(
        c,
        "gelu_large_inputs",
        A1,
        "  output y = gelu(a * 8.0) + gelu(a * 8.0, approx = \"tanh\")");
    add(c, "erf_large_inputs", A1, "  output y = erf(a * 6.0)");
    add(c, "exp_of_softmax_chain", A1, "  output y = exp(log_softmax(a)) - softmax(a)");
    // ---- forms the -O2 passes rewrite (identities, double reshapes/transposes, shared
    // subexpressions)
    add(
        c,
        "opt_identities",
        A1,
        "  output y = (a * 1.0 + 0.0) - (a - 0.0) / 1.0 + 1.0 * a + 0.0 + a");
    add(
        c,
        "opt_double_transpose",
        A1,
        "  output y: f32[seq, 8] = transpose(transpose(a, [0, 2, 1]), [0, 2, 1]) + transpose(transpose(a, [2, 1, 0]), [2, 1, 0]) + a.T.T");
    add(
        c,
        "opt_double_reshape",
        A1,
        "  output y: f32[seq, 8] = reshape(reshape(a, [batch, -1]), [batch, seq, 8]) * (reshape(a, [batch, seq, 2, 4]) |> sum(axis = 3) |> unsqueeze(-1) |> broadcast([batch, seq, 2, 4]) |> reshape([batch, seq, 8]))");
    add(
        c,
        "opt_cse",
        A1,
        "  let p = exp(a) + exp(a)\n  let r = softmax(a) * softmax(a)\n  output y = p + r + relu(relu(a))\n  output z = exp(a)");
    add(
        c,
        "opt_constant_folding",
        A1,
        "  param w: f32[8] = init.normal(1.0)\n  let k = exp(w) * 2.0 + sum(w)\n  output y: f32[seq, 8] = a * k + relu(w - 0.5)");
    return c;
  }

  private static void add(List<Case> c, String name, String decls, String body) {
    addSized(c, name, decls, body, A, B);
  }

  private static void addSized(
      List<Case> c,
      String name,
      String decls,
      String body,
      Map<String, Long> a,
      Map<String, Long> b) {
    c.add(new Case(name, model(decls, body), a, b));
  }
}
