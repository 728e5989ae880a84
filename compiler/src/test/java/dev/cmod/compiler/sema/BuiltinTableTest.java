package dev.cmod.compiler.sema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Op;
import dev.cmod.ir.op.AttrSpec;
import dev.cmod.ir.op.NormalizationOps;
import dev.cmod.ir.op.OpDef;
import dev.cmod.ir.op.OpDefs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builtin table: one-op builtins carry their op's parameters and defaults. */
class BuiltinTableTest {
  @Test
  void normalizationDefaultsComeFromTheOps() {
    assertEquals(List.of("x", "gamma", "eps=1e-6"), BuiltinTable.params("rms_norm"));
    assertEquals(List.of("x", "gamma", "beta", "eps=1e-5"), BuiltinTable.params("layer_norm"));
    assertEquals("rms_norm(x, gamma, eps = 1e-6)", BuiltinTable.signature("rms_norm"));
    assertEquals(
        NormalizationOps.RMS_NORM_EPS.defaultValue(),
        Double.parseDouble(BuiltinTable.params("rms_norm").get(2).substring("eps=".length())));
  }

  @Test
  void internalAttributesAreNotParameters() {
    assertEquals(
        "attention(q, k, v, mask = none, causal = false)", BuiltinTable.signature("attention"));
    assertEquals(
        "conv2d(x, w, b = none, stride = 1, padding = 0)", BuiltinTable.signature("conv2d"));
  }

  /**
   * Every default a one-op builtin shows reads back (as the binder parses it) to the attribute's
   * default, and its required parameters are the op's required operands and attributes.
   */
  @Test
  void oneOpBuiltinsRoundTripTheirDefaults() {
    int oneOp = 0;
    for (String name : BuiltinTable.names()) {
      Op op = BuiltinTable.op(name);
      if (op == null) {
        continue;
      }
      oneOp++;
      OpDef d = OpDefs.of(op);
      for (String p : BuiltinTable.params(name)) {
        int eq = p.indexOf('=');
        String pname = eq < 0 ? p : p.substring(0, eq);
        AttrSpec<?> a = d.attr(pname);
        if (a == null) {
          assertTrue(
              d.operands().stream().anyMatch(o -> o.name().equals(pname)),
              name + ": " + pname + " is an operand or an attribute");
          continue;
        }
        if (eq < 0) {
          assertTrue(a.isRequired(), name + ": " + pname);
          continue;
        }
        String text = p.substring(eq + 1);
        Object parsed =
            switch (a.kind()) {
              case INT -> Long.parseLong(text);
              case REAL -> Double.parseDouble(text);
              case BOOL -> Boolean.parseBoolean(text);
              default -> text;
            };
        assertEquals(a.defaultValue(), parsed, name + ": " + p);
      }
    }
    assertTrue(oneOp >= 35, "most builtins are one op, got " + oneOp);
    assertNull(BuiltinTable.op("flatten"));
    assertNotNull(BuiltinTable.op("softmax"));
  }
}
