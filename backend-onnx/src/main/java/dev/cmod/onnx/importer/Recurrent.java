package dev.cmod.onnx.importer;

import dev.cmod.ir.graph.Attrs;
import dev.cmod.ir.graph.ImportedModule.ImportException;
import dev.cmod.ir.graph.Op;
import dev.cmod.ir.graph.Value;
import dev.cmod.ir.type.DType;
import dev.cmod.ir.type.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ONNX's RNN, GRU and LSTM over a sequence of known length, unrolled into IR operators: the input
 * projections of every step as one matmul, then per step the recurrent matmul and the gates, so
 * that the passes see the weights (and adapters can reach them). Sequence lengths (forward only)
 * freeze a sequence's states after its end and zero its outputs (and an empty sequence's final
 * states, as ONNX Runtime does). Only the default activations are raised, without clipping or the
 * batch-first layout; the rest is carried opaque.
 */
final class Recurrent {
  /** The longest sequence unrolled (each step adds a dozen nodes). */
  private static final long MAX_STEPS = 512;

  static final Set<Op> RAISES =
      Set.of(
          Op.LESS,
          Op.GREATER,
          Op.WHERE,
          Op.CAST,
          Op.SLICE,
          Op.RESHAPE,
          Op.TRANSPOSE,
          Op.MATMUL,
          Op.ADD,
          Op.SUB,
          Op.MUL,
          Op.SIGMOID,
          Op.TANH,
          Op.CONCAT,
          Op.BROADCAST);

  private enum Kind {
    RNN(1, List.of("Tanh")),
    GRU(3, List.of("Sigmoid", "Tanh")),
    LSTM(4, List.of("Sigmoid", "Tanh", "Tanh"));

    final int gates;
    final List<String> activations;

    Kind(int gates, List<String> activations) {
      this.gates = gates;
      this.activations = activations;
    }
  }

  private final ImportContext cx;
  private final Kind kind;
  private Dim batch;
  private long hidden;

  /** The length of each sequence as [batch, 1], or null when every one is full. */
  private Value lens;

  private Recurrent(ImportContext cx, Kind kind) {
    this.cx = cx;
    this.kind = kind;
  }

  static void rnn(ImportContext cx) {
    new Recurrent(cx, Kind.RNN).run();
  }

  static void gru(ImportContext cx) {
    new Recurrent(cx, Kind.GRU).run();
  }

  static void lstm(ImportContext cx) {
    new Recurrent(cx, Kind.LSTM).run();
  }

  private void run() {
    Value x = cx.val(cx.need(0));
    Value w = cx.val(cx.need(1));
    Value r = cx.val(cx.need(2));
    Value b = cx.in(3) == null ? null : cx.val(cx.in(3));
    String direction = cx.attrString("direction", "forward");
    int dirs = direction.equals("bidirectional") ? 2 : 1;
    refuseVariants(dirs);
    if (x.type().rank() != 3 || !x.type().dim(0).isKnown()) {
      throw cx.unsupportedHere("an input " + x.type() + " (a sequence of known length)");
    }
    long steps = x.type().dim(0).value();
    if (steps > MAX_STEPS) {
      throw cx.unsupportedHere(
          "a sequence of " + steps + " steps (unrolled up to " + MAX_STEPS + ")");
    }
    batch = x.type().dim(1);
    hidden = cx.attrInt("hidden_size", -1);
    Dim rh = r.type().dim(2);
    if (hidden <= 0 && rh.isKnown()) {
      hidden = rh.value();
    }
    if (hidden <= 0) {
      throw new ImportException("ONNX operator " + cx.describe() + " needs hidden_size");
    }
    Value h0 = cx.in(5) == null ? null : cx.val(cx.in(5));
    Value c0 = kind == Kind.LSTM && cx.in(6) != null ? cx.val(cx.in(6)) : null;
    Value p = kind == Kind.LSTM && cx.in(7) != null ? cx.val(cx.in(7)) : null;
    if (cx.in(4) != null) {
      lens = cx.val(cx.in(4));
      if (!lens.type().dtype().isInteger()) {
        throw new ImportException(
            "ONNX operator " + cx.describe() + ": sequence_lens must be integers");
      }
      if (lens.type().dtype() != DType.I64) {
        lens = cx.add(Op.CAST, Attrs.of("to", DType.I64), lens);
      }
      lens = cx.reshape(lens, List.of(batch, Dim.of(1)));
    }
    List<Value> ys = new ArrayList<>();
    List<Value> hs = new ArrayList<>();
    List<Value> cs = new ArrayList<>();
    for (int d = 0; d < dirs; d++) {
      boolean reverse = direction.equals("reverse") || d == 1;
      Value[] out =
          direction(
              x,
              steps,
              mat(w, d),
              mat(r, d),
              b == null ? null : row(b, d),
              h0 == null ? null : row(h0, d),
              c0 == null ? null : row(c0, d),
              p == null ? null : row(p, d),
              reverse);
      ys.add(out[0]);
      hs.add(unsqueeze0(out[1]));
      if (out[2] != null) {
        cs.add(unsqueeze0(out[2]));
      }
    }
    cx.out(0, ImportValue.of(concat(ys, 1)));
    cx.out(1, ImportValue.of(concat(hs, 0)));
    if (kind == Kind.LSTM) {
      cx.out(2, ImportValue.of(concat(cs, 0)));
    }
  }

  private void refuseVariants(int dirs) {
    if (cx.in(4) != null && !cx.attrString("direction", "forward").equals("forward")) {
      throw cx.unsupportedHere("sequence_lens in a reverse direction");
    }
    if (cx.attrInt("layout", 0) != 0) {
      throw cx.unsupportedHere("layout = 1");
    }
    if (cx.attr("clip") != null) {
      throw cx.unsupportedHere("clip");
    }
    if (kind == Kind.LSTM && cx.attrInt("input_forget", 0) != 0) {
      throw cx.unsupportedHere("input_forget = 1");
    }
    if (cx.attr("activation_alpha") != null || cx.attr("activation_beta") != null) {
      throw cx.unsupportedHere("activation parameters");
    }
    var acts = cx.attr("activations");
    if (acts != null) {
      List<String> names = new ArrayList<>();
      for (var s : acts.getStringsList()) {
        names.add(s.toStringUtf8());
      }
      List<String> want = new ArrayList<>();
      for (int d = 0; d < dirs; d++) {
        want.addAll(kind.activations);
      }
      if (!names.equals(want)) {
        throw cx.unsupportedHere("activations " + names);
      }
    }
    if (!x().type().dtype().isFloat()) {
      throw cx.unsupportedHere("a " + x().type().dtype() + " input");
    }
  }

  private Value x() {
    return cx.val(cx.need(0));
  }

  /** Direction {@code d} of a [dirs, rows, cols] weight, transposed to [cols, rows]. */
  private Value mat(Value v, int d) {
    List<Dim> dims = v.type().dims();
    Value m = cx.reshape(slice(v, 0, d, d + 1), List.of(dims.get(1), dims.get(2)));
    return cx.add(Op.TRANSPOSE, Attrs.of("perm", new long[] {1, 0}), m);
  }

  /** Direction {@code d} of a [dirs, ...] tensor, without its first axis. */
  private Value row(Value v, int d) {
    List<Dim> dims = v.type().dims();
    return cx.reshape(slice(v, 0, d, d + 1), dims.subList(1, dims.size()));
  }

  private Value slice(Value v, int axis, long start, long end) {
    Dim size = v.type().dim(axis);
    if (start == 0 && size.isKnown() && size.value() == end) {
      return v;
    }
    return cx.add(Op.SLICE, Attrs.of("axis", axis, "start", Dim.of(start), "end", Dim.of(end)), v);
  }

  /** Gate {@code g} of [..., gates * hidden] along the last axis. */
  private Value gate(Value v, int g) {
    int last = v.type().rank() - 1;
    return slice(v, last, g * hidden, (g + 1) * hidden);
  }

  private Value unsqueeze0(Value v) {
    List<Dim> dims = new ArrayList<>(v.type().dims());
    dims.add(0, Dim.of(1));
    return cx.reshape(v, dims);
  }

  private Value concat(List<Value> vs, int axis) {
    return vs.size() == 1
        ? vs.get(0)
        : cx.graph().add(Op.CONCAT, Attrs.of("axis", axis), vs, cx.loc()).out();
  }

  private Value zeros() {
    return cx.add(
        Op.BROADCAST,
        Attrs.of("dims", List.of(batch, Dim.of(hidden))),
        cx.scalar(0, x().type().dtype()));
  }

  /**
   * One direction: its outputs [steps, 1, batch, hidden] (in time order), the last hidden state
   * and, for LSTM, the last cell state.
   */
  private Value[] direction(
      Value x,
      long steps,
      Value wt,
      Value rt,
      Value bias,
      Value h,
      Value c,
      Value peep,
      boolean reverse) {
    long width = kind.gates * hidden;
    // the input projections of every step at once: [steps, batch, gates * hidden]
    Value xw = cx.add(Op.MATMUL, x, wt);
    Value rb = null;
    if (bias != null) {
      Value wb = slice(bias, 0, 0, width);
      rb = slice(bias, 0, width, 2 * width);
      if (kind == Kind.GRU) {
        xw = cx.add(Op.ADD, xw, wb);
      } else {
        xw = cx.add(Op.ADD, xw, cx.add(Op.ADD, wb, rb));
        rb = null;
      }
    }
    if (h == null) {
      h = zeros();
    }
    if (kind == Kind.LSTM && c == null) {
      c = zeros();
    }
    Value[] ys = new Value[(int) steps];
    for (long s = 0; s < steps; s++) {
      long t = reverse ? steps - 1 - s : s;
      Value xt = cx.reshape(slice(xw, 0, t, t + 1), List.of(batch, Dim.of(width)));
      Value hn;
      Value cn = c;
      switch (kind) {
        case RNN -> hn = cx.add(Op.TANH, cx.add(Op.ADD, xt, cx.add(Op.MATMUL, h, rt)));
        case GRU -> hn = gruStep(xt, h, rt, rb);
        default -> {
          Value[] hc = lstmStep(xt, h, c, rt, peep);
          hn = hc[0];
          cn = hc[1];
        }
      }
      Value y = hn;
      if (lens != null) {
        // a sequence that has ended keeps its states and outputs zeros
        Value live = cx.add(Op.LESS, cx.scalar(t, DType.I64), lens);
        hn = cx.add(Op.WHERE, live, hn, h);
        if (cn != null) {
          cn = cx.add(Op.WHERE, live, cn, c);
        }
        y = cx.add(Op.WHERE, live, y, cx.scalar(0, x.type().dtype()));
      }
      h = hn;
      c = cn;
      List<Dim> one = List.of(Dim.of(1), Dim.of(1), batch, Dim.of(hidden));
      ys[(int) t] = cx.reshape(y, one);
    }
    if (lens != null) {
      // ONNX Runtime gives an empty sequence zero final states, not its initial ones
      Value some = cx.add(Op.GREATER, lens, cx.scalar(0, DType.I64));
      Value zero = cx.scalar(0, x.type().dtype());
      h = cx.add(Op.WHERE, some, h, zero);
      c = c == null ? null : cx.add(Op.WHERE, some, c, zero);
    }
    return new Value[] {concat(List.of(ys), 0), h, c};
  }

  /** GRU gates z, r, h; the reset applied before or after the recurrent matmul. */
  private Value gruStep(Value xt, Value h, Value rt, Value rb) {
    boolean linearBeforeReset = cx.attrInt("linear_before_reset", 0) != 0;
    Value rz = slice(rt, 1, 0, 2 * hidden);
    Value rh = slice(rt, 1, 2 * hidden, 3 * hidden);
    Value hr = cx.add(Op.MATMUL, h, rz);
    if (rb != null) {
      hr = cx.add(Op.ADD, hr, slice(rb, 0, 0, 2 * hidden));
    }
    Value rbh = rb == null ? null : slice(rb, 0, 2 * hidden, 3 * hidden);
    Value z = cx.add(Op.SIGMOID, cx.add(Op.ADD, gate(xt, 0), gate(hr, 0)));
    Value r = cx.add(Op.SIGMOID, cx.add(Op.ADD, gate(xt, 1), gate(hr, 1)));
    Value cand;
    if (linearBeforeReset) {
      Value hh = cx.add(Op.MATMUL, h, rh);
      if (rbh != null) {
        hh = cx.add(Op.ADD, hh, rbh);
      }
      cand = cx.add(Op.MUL, r, hh);
    } else {
      cand = cx.add(Op.MATMUL, cx.add(Op.MUL, r, h), rh);
      if (rbh != null) {
        cand = cx.add(Op.ADD, cand, rbh);
      }
    }
    Value hn = cx.add(Op.TANH, cx.add(Op.ADD, gate(xt, 2), cand));
    // (1 - z) * hn + z * h = hn + z * (h - hn)
    return cx.add(Op.ADD, hn, cx.add(Op.MUL, z, cx.add(Op.SUB, h, hn)));
  }

  /** LSTM gates i, o, f, c, with peepholes where given. */
  private Value[] lstmStep(Value xt, Value h, Value c, Value rt, Value peep) {
    Value g = cx.add(Op.ADD, xt, cx.add(Op.MATMUL, h, rt));
    Value i = gate(g, 0);
    Value o = gate(g, 1);
    Value f = gate(g, 2);
    if (peep != null) {
      i = cx.add(Op.ADD, i, cx.add(Op.MUL, gate(peep, 0), c));
      f = cx.add(Op.ADD, f, cx.add(Op.MUL, gate(peep, 2), c));
    }
    i = cx.add(Op.SIGMOID, i);
    f = cx.add(Op.SIGMOID, f);
    Value cand = cx.add(Op.TANH, gate(g, 3));
    Value cn = cx.add(Op.ADD, cx.add(Op.MUL, f, c), cx.add(Op.MUL, i, cand));
    if (peep != null) {
      o = cx.add(Op.ADD, o, cx.add(Op.MUL, gate(peep, 1), cn));
    }
    o = cx.add(Op.SIGMOID, o);
    return new Value[] {cx.add(Op.MUL, o, cx.add(Op.TANH, cn)), cn};
  }
}
