package dev.cmod.ir.type;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Dim#toSource()} writes a size as a .cmod expression whose meaning is the dim's: checked by
 * evaluating the written text by hand here (the compiler's parser is checked on it in cli's
 * WrapTest through the wrappers it compiles).
 */
class DimSourceTest {
  @Test
  void floorDivisionsKeepTheirNumeratorTogether() {
    Dim w = Dim.sym("w");
    Dim conv = w.minus(Dim.of(1)).div(Dim.of(2)).plus(Dim.of(1));
    assertEquals("((w - 1) / 2) + 1", conv.toSource());
    // the compact form of messages is not source: it reads w - (1/2)
    assertEquals("(w-1/2)+1", conv.toString());
    Map<String, Long> at = Map.of("w", 9L);
    assertEquals((9 - 1) / 2 + 1, conv.eval(at::get));
  }

  @Test
  void productsSumsAndUnknowns() {
    Dim h = Dim.sym("h");
    Dim w = Dim.sym("w");
    assertEquals("2 * h * w + 3", h.times(w).times(Dim.of(2)).plus(Dim.of(3)).toSource());
    assertEquals("-h", Dim.of(0).minus(h).toSource());
    assertEquals("16", Dim.of(16).toSource());
    assertEquals("_", Dim.UNKNOWN.toSource());
  }
}
